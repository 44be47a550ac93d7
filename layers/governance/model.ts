// Data governance (数据分级分类, issue 10): every layer's sensitivity grade, owner, update frequency and the
// meaning of its data, said once here beside the catalog; and the shapes of a sharing grant (申请、审批、使用、反馈).
// The owner department is LayerDef.department. Pure data: no I/O, runs in Node and the browser.
import type { DepartmentId, Role } from '../catalog.ts';

/**
 * Grades, after GB/T 43697-2024 (数据安全技术 数据分类分级规则: 一般/重要/核心) as cities apply it to open and
 * shared data: 公开 anyone, 内部 staff signed in, 敏感 the owner's staff and named standing duties, others by an
 * approved request, 核心 the owner's staff only, others by a request approved twice.
 */
export type Grade = 'public' | 'internal' | 'sensitive' | 'core';
export const GRADES: readonly Grade[] = ['public', 'internal', 'sensitive', 'core'];
export const GRADE_INFO: Record<Grade, { title: string; titleEn: string; approvals: 0 | 1 | 2; rank: number }> = {
  public: { title: '公开', titleEn: 'Public', approvals: 0, rank: 0 },
  internal: { title: '内部', titleEn: 'Internal', approvals: 0, rank: 1 },
  sensitive: { title: '敏感', titleEn: 'Sensitive', approvals: 1, rank: 2 },
  core: { title: '核心', titleEn: 'Core', approvals: 2, rank: 3 },
};

export type UpdateFrequency = 'realtime' | 'daily' | 'weekly' | 'monthly' | 'quarterly' | 'yearly' | 'on_change';
export const UPDATE_FREQUENCY_TITLE: Record<UpdateFrequency, string> = {
  realtime: '实时', daily: '每日', weekly: '每周', monthly: '每月', quarterly: '每季度', yearly: '每年', on_change: '随变更',
};
/** How old the data may get before the catalog calls it stale (ms), per update frequency. */
export const FRESH_FOR_MS: Record<UpdateFrequency, number> = {
  realtime: 3_600_000, daily: 2 * 86_400_000, weekly: 8 * 86_400_000, monthly: 32 * 86_400_000,
  quarterly: 93 * 86_400_000, yearly: 366 * 86_400_000, on_change: Number.POSITIVE_INFINITY,
};

export interface Governance {
  grade: Grade;
  /** 数据说明: what the data set is and what it is for (Chinese). */
  description: string;
  /** The meaning of each field (字段含义), by field name; the catalog shows it beside FieldDef.title. */
  fieldMeaning: Record<string, string>;
  updateFrequency: UpdateFrequency;
  /** Sensitive layers only: roles that see the layer without a request because their duty needs it (e.g. the
   *  command centre's operators dispatch to hazardous sites). Never allowed on core layers. */
  standing?: Role[];
  /** Fields graded above the layer (personal fields are at least 'sensitive'): masked, and encrypted at rest. */
  fieldGrades?: Record<string, Grade>;
}

// ------------------------------------------------------------------------------------------ sharing

export type RequestStatus = 'pending' | 'approving' | 'approved' | 'refused' | 'revoked' | 'expired';

/** An approved (or in-approval) scope: what a grant lets its holder see. */
export interface GrantScope {
  /** Field names the holder sees (besides `id`); null = every field of the layer. */
  fields: string[] | null;
  /** Town (9-digit), village (12) or grid (15) codes: a feature is inside when its area code starts with one; null = the whole city. */
  areas: string[] | null;
  /** ms since epoch; the grant stops at this instant. */
  expiresAt: number;
}

/** A grant in force for one user on one layer (an approved request, not expired, not revoked). */
export interface Grant extends GrantScope {
  /** The sharing request's id. */
  id: string;
  layer: string;
  /** The holder's username. */
  grantee: string;
}

/** One use of a grant: data of the layer left the server under it. */
export interface GrantUse { grantId: string; layer: string; grantee: string; at: number; route: string; rows: number }

/** Where the server finds grants in force and records their use (the sharing service; tests may pass a fixed list). */
export interface GrantSource {
  /** Grants of this user in force at `now` (expired and revoked ones are never returned). */
  activeGrants(username: string, now: number): readonly Grant[];
  recordUse(use: GrantUse): void;
}

/** Who asks, as access decisions need it: Actor satisfies it. */
export interface AccessActor {
  id: string;
  role: string;
  department?: DepartmentId;
  grids?: readonly string[];
}
