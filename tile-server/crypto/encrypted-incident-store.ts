// The incident store with the people's names encrypted at rest (issue 10): the reporter of an incident (a citizen
// or a grid manager) and the actor of each step of its timeline and audit rows are personal data
// (tile-server/personal-data.ts masks them for analysts); their `name` (and `phone`, should an actor carry one) is
// stored as `enc:v1:…` on both engines. Ids and roles stay plain: the workflow checks them.
import type { Actor, Incident, Transition } from '../../layers/incidents/model.ts';
import { VersionConflict, type AuditEntry, type IncidentStore } from '../incidents/incident-store.ts';
import { FieldCipher } from './field-cipher.ts';
import { overlay } from './overlay.ts';

const PERSONAL_KEYS = ['name', 'phone'] as const;
export const actorContext = (key: string) => `incident:actor.${key}`;

export function encryptingIncidentStore(store: IncidentStore, cipher: FieldCipher): IncidentStore {
  const sealActor = <A extends Actor | null | undefined>(a: A): A => {
    if (!a) return a;
    let out: Record<string, unknown> | undefined;
    for (const k of PERSONAL_KEYS) {
      const v = (a as unknown as Record<string, unknown>)[k];
      if (typeof v === 'string' && v !== '') (out ??= { ...a })[k] = cipher.encrypt(v, actorContext(k));
    }
    return (out ?? a) as A;
  };
  const openActor = <A extends Actor | null | undefined>(a: A): A => {
    if (!a) return a;
    let out: Record<string, unknown> | undefined;
    for (const k of PERSONAL_KEYS) {
      const v = (a as unknown as Record<string, unknown>)[k];
      if (FieldCipher.isEncrypted(v)) (out ??= { ...a })[k] = cipher.decrypt(v, actorContext(k));
    }
    return (out ?? a) as A;
  };
  const openIncident = (i: Incident): Incident => ({ ...i, reporter: openActor(i.reporter) });
  const openTransition = <T extends Pick<Transition, 'actor'>>(t: T): T => ({ ...t, actor: openActor(t.actor) });
  const openAudit = (e: AuditEntry): AuditEntry => ({ ...e, actor: openActor(e.actor) });
  const conflictOpened = (e: unknown): unknown => (e instanceof VersionConflict ? new VersionConflict(openIncident(e.current)) : e);

  return overlay<IncidentStore>(store, {
    create: async (incident, first, opts) => {
      const r = await store.create({ ...incident, reporter: sealActor(incident.reporter) }, { ...first, actor: sealActor(first.actor) }, opts);
      return { ...r, incident: openIncident(r.incident) };
    },
    update: async (next, expectedVersion, t) => {
      try {
        const r = await store.update({ ...next, reporter: sealActor(next.reporter) }, expectedVersion, { ...t, actor: sealActor(t.actor) });
        return { incident: openIncident(r.incident), transition: openTransition(r.transition) };
      } catch (e) {
        throw conflictOpened(e);
      }
    },
    get: async (id) => { const i = await store.get(id); return i && openIncident(i); },
    list: async (f, now) => { const r = await store.list(f, now); return { ...r, items: r.items.map(openIncident) }; },
    overdue: async (t) => (await store.overdue(t)).map(openIncident),
    transitions: async (id) => (await store.transitions(id)).map(openTransition),
    addAttachment: (meta, data, at, actor) => store.addAttachment(meta, data, at, sealActor(actor)),
    audit: (e) => store.audit({ ...e, actor: sealActor(e.actor) }),
    auditLog: async (f) => (await store.auditLog(f)).map(openAudit),
  });
}
