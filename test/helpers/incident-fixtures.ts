// Incidents for the store tests (test/incident-store.test.ts and its crash writer): plain rows, no
// service logic — the store must keep whatever it is given.
import type { Actor, Incident, Transition } from '../../layers/incidents/model.ts';

export const OPERATOR: Actor = { id: 'op-1', role: 'operator', name: '值班员甲' };

export function makeIncident(id: string, over: Partial<Incident> = {}): Incident {
  const t = over.createdAt ?? 1_780_000_000_000;
  return {
    id, code: `SJ-${id}`, status: 'reported', level: 'grid',
    category: '0101', categoryName: '井盖破损或缺失', severity: 3, source: 'grid',
    title: '井盖缺失', description: '人行道上井盖缺失，有坠落风险', lon: 114.3, lat: 30.6,
    address: '中山路 1 号', addressCode: '420100001001001', gridCode: '420100001001001', villageCode: '420100001001',
    townCode: '420100001', department: 'urban', assigneeId: null, handlerId: null, reporter: OPERATOR,
    mergedInto: null, deadline: t + 2 * 3600_000, supervisions: 0, createdAt: t, updatedAt: t, closedAt: null, version: 1,
    ...over,
  };
}

export function reportTransition(i: Incident, actor: Actor = OPERATOR): Transition {
  return { incidentId: i.id, seq: 1, action: 'report', from: null, to: i.status, actor, at: i.createdAt, reason: null, data: { source: i.source } };
}

/** The next version of `i` after `action` (the store does not judge the transition; the service does). */
export function bump(i: Incident, over: Partial<Incident>, at: number): Incident {
  return { ...i, ...over, updatedAt: at, version: i.version + 1 };
}
