// The incident (case) model of the closed loop, after 数字城管 / 网格化 practice (GB/T 30428, CJJ/T 312):
// 信息采集 report → 立案 register → 派遣 dispatch → 处置 handle → 反馈 feedback → 核查 verify → 结案 close.
// Shared by the state machine, both stores (SQLite, PostgreSQL), the HTTP API and the client (as JSON).
import type { IncidentSource } from '../incident-categories.ts';
import type { DepartmentId } from '../catalog.ts';

/**
 * reported   信息采集: reported, waiting to be registered (or rejected, or merged as a duplicate)
 * registered 已立案: accepted as a case, waiting for dispatch (also after a responder declines)
 * dispatched 已派遣: assigned to a responder, waiting for them to accept
 * handling   处置中: the responder accepted and is handling it
 * handled    已反馈: the responder fed back (after photos), waiting for verification
 * closed     已结案: verified by someone other than the handler, and closed
 * rejected   不予立案: not a case (with the reason)
 * merged     已合并: a duplicate, merged into `mergedInto`
 */
export type IncidentStatus = 'reported' | 'registered' | 'dispatched' | 'handling' | 'handled' | 'closed' | 'rejected' | 'merged';
export const INCIDENT_STATUSES: readonly IncidentStatus[] = ['reported', 'registered', 'dispatched', 'handling', 'handled', 'closed', 'rejected', 'merged'];
export const OPEN_STATUSES: readonly IncidentStatus[] = ['reported', 'registered', 'dispatched', 'handling', 'handled'];

/**
 * register  reported → registered           reject   reported → rejected (reason required)
 * dispatch  registered → dispatched (data.responderId; also POST /dispatch); reassign: dispatched|handling → dispatched
 * accept    dispatched → handling (by the assignee)   decline  dispatched → registered (by the assignee, reason required)
 * feedback  handling → handled (by the assignee; after-photos as attachments)
 * verify    handled → closed (actor ≠ handler)      rework   handled → handling (actor ≠ handler, reason required)
 * escalate  any open status, level grid→town→city (reason required)   deescalate  level city→town→grid
 * supervise any open status: records 督办 (no status change)
 * merge     reported|registered → merged (data.into: the surviving incident id)
 * comment   any status: a note on the timeline
 */
export type IncidentAction = 'register' | 'reject' | 'dispatch' | 'reassign' | 'accept' | 'decline' | 'feedback'
  | 'verify' | 'rework' | 'escalate' | 'deescalate' | 'supervise' | 'merge' | 'comment';
export const INCIDENT_ACTIONS: readonly IncidentAction[] = ['register', 'reject', 'dispatch', 'reassign', 'accept', 'decline',
  'feedback', 'verify', 'rework', 'escalate', 'deescalate', 'supervise', 'merge', 'comment'];

/** Who is responsible: the grid handles it first; escalation (提级会办) climbs to the town, then the city. */
export type IncidentLevel = 'grid' | 'town' | 'city';

/** Who did something: the signed-in user (issue 9: tile-server/auth), a responder recorded on their behalf, or the sweeper. */
export interface Actor {
  id: string; role: 'admin' | 'operator' | 'grid_manager' | 'planner' | 'analyst' | 'responder' | 'system'; name?: string;
  /** A grid manager's grid codes (their scope). */
  grids?: string[];
  /** A planner's editable layers; absent = every layer their role may edit. */
  layers?: string[];
  /** The user's department (issue 10: owners of graded layers see them; approvers act for their department). */
  department?: DepartmentId;
}

export interface Incident {
  id: string;
  /** Human-facing case number, e.g. SJ202611290007. */
  code: string;
  status: IncidentStatus;
  level: IncidentLevel;
  category: string;
  categoryName: string;
  severity: 1 | 2 | 3 | 4;
  source: IncidentSource;
  title: string;
  description: string;
  lon: number;
  lat: number;
  /** Standard address text (nearest, or the geocoded one when reported by address). */
  address: string | null;
  addressCode: string | null;
  gridCode: string | null;
  villageCode: string | null;
  townCode: string | null;
  department: string;
  /** Responder currently assigned (dispatched/handling/handled), else null. */
  assigneeId: string | null;
  /** Who fed back (handled): verification must be by someone else. */
  handlerId: string | null;
  reporter: Actor;
  mergedInto: string | null;
  /** Deadline of the current stage (ms since epoch), null when closed/rejected/merged. */
  deadline: number | null;
  /** Number of 督办 (supervisions) so far. */
  supervisions: number;
  createdAt: number;
  updatedAt: number;
  closedAt: number | null;
  /** Optimistic concurrency: every change increments it. */
  version: number;
}

export interface Transition {
  incidentId: string;
  /** 1, 2, … per incident (creation is seq 1, action 'report'). */
  seq: number;
  action: IncidentAction | 'report';
  from: IncidentStatus | null;
  to: IncidentStatus;
  actor: Actor;
  at: number;
  reason: string | null;
  /** Action details: responderId, level, into, attachment ids, overdue info … */
  data: Record<string, unknown>;
}

export interface Attachment {
  id: string;
  incidentId: string;
  /** before: reported with the incident; after: with the feedback. */
  kind: 'before' | 'after';
  mime: 'image/jpeg' | 'image/png' | 'image/webp';
  bytes: number;
  sha256: string;
  createdAt: number;
}

export interface NewIncident {
  lon: number;
  lat: number;
  category: string;
  title: string;
  description: string;
  source: IncidentSource;
  severity?: 1 | 2 | 3 | 4;
  address?: string | null;
  addressCode?: string | null;
}

export interface IncidentFilter {
  bbox?: [number, number, number, number];
  status?: IncidentStatus[];
  grid?: string;
  /** Any of these grids (a grid manager's scope, issue 9); an empty list matches nothing. */
  grids?: string[];
  town?: string;
  category?: string;
  assignee?: string;
  /** updatedAt ≥ since (ms). */
  since?: number;
  overdue?: boolean;
  limit: number;
  offset?: number;
}

/** A ranked dispatch candidate with the reasons for its place. */
export interface Candidate {
  responderId: string;
  name: string;
  kind: string;
  department: string | null;
  gridCode: string | null;
  /** Road-network travel time from the responder's live (else home) position, seconds; null = unreachable. */
  travelSeconds: number | null;
  /** Road distance, metres. */
  travelMetres: number | null;
  positionSource: 'live' | 'home';
  workload: number;
  skillMatch: boolean;
  departmentMatch: boolean;
  ownGridManager: boolean;
  score: number;
  reasons: string[];
}
