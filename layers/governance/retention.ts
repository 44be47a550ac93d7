// Retention (数据全生命周期：销毁, issue 10 item 3): how long each data set the server stores is kept, as data.
// The purge service (tile-server/lifecycle) deletes what is older than `keepDays` and records per rule what it
// deleted in the security audit. Pure: the environment is passed in, so the client and specs can read the table.
//
// Periods, and why:
// - telemetry readings 7 d: the period the telemetry service has kept since issue 7 (tile-server/telemetry/README.md);
//   every device reports every ~10 s, so a longer history belongs in an archive, not in the operational store.
//   ONEMAP_TELEMETRY_RETENTION_DAYS (issue 7's variable) still sets it when the rule's own variable is unset.
// - cleared alarms 365 d: a year of alarms for the annual safety review (年度安全生产检查) and the indicators' trends.
// - closed incidents 3 years: long enough for year-on-year comparison and for complaints about a case to be
//   reviewed; a longer record is the archive's (档案), not the operational store's. With their timeline, photos and
//   audit rows, which name the people involved.
// - patrol tracks 180 d: a grid manager's location trace is personal data (个人信息保护法 art. 19: kept no longer
//   than the purpose needs); half a year covers the attendance and complaint reviews.
// - expired sessions at once: a session past its expiry or idle time is of no use and identifies a user.
// - sharing usage logs 3 years and the security audit 3 years: the audit of who saw what must outlive the grants
//   (网络安全法 art. 21 asks for at least 6 months of network logs; 3 years covers the yearly reviews of grants).

export interface RetentionRule {
  /** Stable id, lower case: `ONEMAP_RETENTION_<ID upper case>_DAYS` overrides keepDays. */
  id: string;
  title: string;
  titleEn: string;
  /** The data set, as the catalog and the admin page name it. */
  dataset: string;
  /** Days kept after the rule's reference time (`since`); 0 = deleted at the next run. */
  keepDays: number;
  /** What the age is counted from (Chinese + English). */
  since: string;
  /** What a run deletes (Chinese + English). */
  deletes: string;
  /** Personal data (个人信息): the period is a minimum-retention duty, not only a storage budget. */
  personal: boolean;
}

export const RETENTION_RULES: readonly RetentionRule[] = [
  {
    id: 'telemetry_readings', title: '物联感知读数', titleEn: 'Telemetry readings', dataset: 'telemetry.readings', keepDays: 7,
    since: '读数时刻 reading time', deletes: '设备历史读数 device readings', personal: false,
  },
  {
    id: 'cleared_alarms', title: '已解除告警', titleEn: 'Cleared alarms', dataset: 'telemetry.alarms', keepDays: 365,
    since: '解除时刻 cleared at', deletes: '已解除的告警（活动告警不删）cleared alarms (active ones are kept)', personal: false,
  },
  {
    id: 'closed_incidents', title: '已办结事件', titleEn: 'Closed incidents', dataset: 'incidents', keepDays: 1095,
    since: '结案/不予立案/合并时刻 closed, rejected or merged at',
    deletes: '已结案、不予立案、已合并的事件及其流转记录、照片附件、幂等键与事件审计 closed/rejected/merged incidents with their transitions, attachments, idempotency keys and audit rows',
    personal: true,
  },
  {
    id: 'patrol_tracks', title: '巡查轨迹', titleEn: 'Patrol tracks', dataset: 'patrol.checkins', keepDays: 180,
    since: '签到时刻 check-in time', deletes: '网格员巡查签到点（个人位置轨迹）grid managers\' check-ins (personal location traces)', personal: true,
  },
  {
    id: 'expired_sessions', title: '过期会话', titleEn: 'Expired sessions', dataset: 'auth.sessions', keepDays: 0,
    since: '到期或空闲超时 expiry or idle timeout', deletes: '已过期或空闲超时的登录会话 sessions past their expiry or idle time', personal: true,
  },
  {
    id: 'sharing_usage', title: '共享使用记录', titleEn: 'Sharing usage log', dataset: 'sharing.usage', keepDays: 1095,
    since: '使用时刻 time of use', deletes: '授权数据的使用记录 records of data used under a grant', personal: true,
  },
  {
    id: 'security_audit', title: '安全审计日志', titleEn: 'Security audit log', dataset: 'security.security_audit', keepDays: 1095,
    since: '记录时刻 recorded at', deletes: '登录、查看明文、共享审批、清理等安全审计记录 sign-in, unmasking, sharing and purge events', personal: true,
  },
];

export const RETENTION_IDS = RETENTION_RULES.map((r) => r.id);
export const MAX_KEEP_DAYS = 36_500;
export const DAY_MS = 86_400_000;

/** The variable that overrides a rule's period. */
export const retentionEnvName = (id: string): string => `ONEMAP_RETENTION_${id.toUpperCase()}_DAYS`;

/** Issue 7's variable for the readings' period, honoured when the rule's own variable is unset. */
const LEGACY_ENV: Record<string, string> = { telemetry_readings: 'ONEMAP_TELEMETRY_RETENTION_DAYS' };

export interface ResolvedRule extends RetentionRule {
  /** The rule's default period. */
  defaultDays: number;
  /** Where keepDays came from: the table, or the named environment variable. */
  source: 'default' | string;
}

/**
 * The rules with their periods from `env` (`ONEMAP_RETENTION_<ID>_DAYS`, a whole number 0–36500). A bad value
 * throws, naming the variable: a typo must not silently keep (or delete) data for the wrong period.
 */
export function resolveRetention(env: Readonly<Record<string, string | undefined>>): ResolvedRule[] {
  return RETENTION_RULES.map((r) => {
    const names = [retentionEnvName(r.id), ...(LEGACY_ENV[r.id] ? [LEGACY_ENV[r.id]] : [])];
    const name = names.find((n) => env[n] !== undefined && env[n] !== '');
    if (!name) return { ...r, defaultDays: r.keepDays, source: 'default' };
    const raw = String(env[name]).trim();
    const days = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
    if (!(days >= 0 && days <= MAX_KEEP_DAYS)) {
      throw new Error(`${name}=${JSON.stringify(raw)} 不是有效天数：须为 0–${MAX_KEEP_DAYS} 的整数（${r.title}保留天数）。` +
        `${name} must be a whole number of days 0–${MAX_KEEP_DAYS} (how long ${r.titleEn.toLowerCase()} are kept).`);
    }
    return { ...r, keepDays: days, defaultDays: r.keepDays, source: name };
  });
}

/** The instant before which a rule's data is deleted at `now`. */
export const cutoffOf = (rule: Pick<RetentionRule, 'keepDays'>, now: number): number => now - rule.keepDays * DAY_MS;
