// Display text shared by the incident board, the detail and "my cases": every string through i18n.
import type { IncidentAction, IncidentLevel, IncidentStatus } from '../../../layers/incidents/model.ts';
import { t, type MessageKey } from '../i18n.ts';
import { durationParts, msLeft } from '../stores/incidents.ts';

export const statusText = (s: IncidentStatus) => t(`inc.status.${s}` as MessageKey);
export const actionText = (a: IncidentAction | 'report') => t(`inc.action.${a}` as MessageKey);
export const levelText = (l: IncidentLevel) => t(`inc.level.${l}` as MessageKey);
export const sourceText = (s: string) => t(`inc.source.${s}` as MessageKey);
export const kindText = (k: string) => (k === 'grid_manager' || k === 'patrol' ? t(`inc.kind.${k}` as MessageKey) : k);

export function durationText(ms: number): string {
  const p = durationParts(ms);
  if (p.d > 0) return t('inc.dur.d', p);
  if (p.h > 0) return t('inc.dur.h', p);
  return t('inc.dur.m', p);
}

/** "剩 1 小时 20 分" / "超时 35 分钟" / "已办结". */
export function timeLeftText(i: { deadline: number | null; status: IncidentStatus }, now: number): string {
  const left = msLeft(i, now);
  if (left === null) return t('inc.ended');
  return left < 0 ? t('inc.overdueBy', { time: durationText(left) }) : t('inc.left', { time: durationText(left) });
}

/** Local date and time, minutes precision (operators read the wall clock, not UTC). */
export function clockText(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}
