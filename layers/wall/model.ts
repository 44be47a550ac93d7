// The command-centre wall (issue 9 item 3): the city's operating summary the server computes (GET /api/wall/summary —
// GET /api/indicators before issue 10 gave that path to the indicator system — pushed on /ws as {type:'indicators'}
// every 5 s) and the commands an operator's console sends to every wall (POST /api/wall → /ws {type:'wall', …}).
// Shared by the server and the client as JSON.
import type { IncidentStatus } from '../incidents/model.ts';

export type Bbox = [number, number, number, number];
export type OpenStatus = Extract<IncidentStatus, 'reported' | 'registered' | 'dispatched' | 'handling' | 'handled'>;

export interface TownRef { code: string; name: string; bbox: Bbox | null }

export interface Indicators {
  at: number;
  incidents: {
    open: number;
    /** Open incidents per status (every open status present, 0 when none). */
    byStatus: Record<OpenStatus, number>;
    /** Every town of the city (most open first, then by code), plus 未知 when an incident lies outside every town. */
    byTown: (TownRef & { open: number; overdue: number })[];
    /** Open incidents past the deadline of their current stage (as the sweeper judges it). */
    overdue: number;
    /** Report → first dispatch of incidents first dispatched within DISPATCH_WINDOW_MS; null when none. */
    dispatchCount: number;
    dispatchMedianMin: number | null;
    dispatchP90Min: number | null;
  };
  alarms: {
    /** Alarms raised within the last hour (still active or already cleared). */
    lastHour: number;
    active: number;
    /** Towns with an active alarm or one raised in the last hour, most active first. */
    byTown: (TownRef & { active: number; lastHour: number })[];
  };
  devices: {
    total: number;
    online: number;
    /** online / (devices whose state is known), 0–1, as the telemetry health summary; null when telemetry is off. */
    onlineRate: number | null;
    byKind: Record<string, { total: number; online: number; rate: number }>;
  };
}

export const DISPATCH_WINDOW_MS = 24 * 3_600_000;
export const ALARM_WINDOW_MS = 3_600_000;
/** How often the server pushes indicators to the live feed. */
export const INDICATOR_PUSH_MS = 5000;

/** An operator's command for the walls. `town` is a town code (镇街代码). */
export type WallCommand =
  | { cmd: 'flyTo'; town: string }
  | { cmd: 'flyTo'; lon: number; lat: number; zoom?: number }
  | { cmd: 'tour'; intervalSec?: number }
  | { cmd: 'stopTour' }
  | { cmd: 'showIncident'; id: string };

/** What the walls receive: the command, resolved (a town's name and extent), and who sent it when. */
export type WallMessage = WallCommand & { type: 'wall'; by: string; at: number; name?: string; bbox?: Bbox | null };

export const TOUR_MIN_SEC = 5;
export const TOUR_MAX_SEC = 600;
export const TOUR_DEFAULT_SEC = 20;

export class WallCommandError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'WallCommandError';
  }
}

const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;

/** Validates a POST /api/wall body; throws WallCommandError (→ 400) saying what is wrong. */
export function parseWallCommand(body: unknown): WallCommand {
  const bad = (code: string, zh: string, en: string) => new WallCommandError(code, `${zh} ${en}`);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('bad_command', '正文须为 JSON 对象，如 {"cmd":"flyTo","town":"320581001"}。', 'The body must be a JSON object such as {"cmd":"flyTo","town":"320581001"}.');
  const b = body as Record<string, unknown>;
  const keys = (allowed: string[]) => {
    for (const k of Object.keys(b)) if (!allowed.includes(k)) throw bad('unknown_param', `不认识的字段「${k.slice(0, 40)}」；可用：${allowed.join(', ')}。`, `Unknown field "${k.slice(0, 40)}"; allowed: ${allowed.join(', ')}.`);
  };
  switch (b.cmd) {
    case 'flyTo': {
      if (b.town !== undefined) {
        keys(['cmd', 'town']);
        if (typeof b.town !== 'string' || !ID_RE.test(b.town)) throw bad('bad_town', 'town 须为镇街代码（1–64 位字母数字）。', 'town must be a town code (1–64 letters and digits).');
        return { cmd: 'flyTo', town: b.town };
      }
      keys(['cmd', 'lon', 'lat', 'zoom']);
      const num = (v: unknown, lo: number, hi: number) => typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi;
      if (!num(b.lon, -180, 180) || !num(b.lat, -85, 85)) throw bad('bad_position', 'flyTo 须给出 town（镇街代码）或 lon、lat（WGS84 度）。', 'flyTo needs town (a town code) or lon and lat (WGS84 degrees).');
      if (b.zoom !== undefined && !num(b.zoom, 6, 19)) throw bad('bad_zoom', 'zoom 须在 6–19 之间。', 'zoom must be within 6–19.');
      return { cmd: 'flyTo', lon: b.lon as number, lat: b.lat as number, ...(b.zoom !== undefined ? { zoom: b.zoom as number } : {}) };
    }
    case 'tour': {
      keys(['cmd', 'intervalSec']);
      const s = b.intervalSec;
      if (s !== undefined && !(typeof s === 'number' && Number.isInteger(s) && s >= TOUR_MIN_SEC && s <= TOUR_MAX_SEC)) {
        throw bad('bad_interval', `intervalSec 须为 ${TOUR_MIN_SEC}–${TOUR_MAX_SEC} 的整数秒。`, `intervalSec must be an integer ${TOUR_MIN_SEC}–${TOUR_MAX_SEC}.`);
      }
      return s === undefined ? { cmd: 'tour' } : { cmd: 'tour', intervalSec: s };
    }
    case 'stopTour':
      keys(['cmd']);
      return { cmd: 'stopTour' };
    case 'showIncident':
      keys(['cmd', 'id']);
      if (typeof b.id !== 'string' || !ID_RE.test(b.id)) throw bad('bad_incident', 'id 须为案件 id（UUID）或案件编号。', 'id must be an incident id (UUID) or case code.');
      return { cmd: 'showIncident', id: b.id };
    default:
      throw bad('unknown_command', 'cmd 须为 flyTo、tour、stopTour 或 showIncident 之一。', 'cmd must be one of flyTo, tour, stopTour, showIncident.');
  }
}
