// The edit store with the sensitive and core fields of edited and imported features encrypted at rest (issue 10):
// on both engines the stored JSON holds `enc:v1:…` for those properties; every reader of the store (the edit
// service, the replay into the effective layers, imports, publishing) gets the plain values back.
// A value already looking encrypted in any field is encrypted again, so the read side can decrypt every
// `enc:v1:` value it meets without mistaking a user's text for a ciphertext.
import type { EditFeature, FeatureVersion } from '../../layers/editing/model.ts';
import { EditConflictError, type EditStore } from '../editing/edit-store.ts';
import { FieldCipher } from './field-cipher.ts';
import { overlay } from './overlay.ts';
import { encryptedFieldsOf } from './sensitive-fields.ts';

export const editContext = (layer: string, field: string) => `edit:${layer}.${field}`;

export function encryptingEditStore(store: EditStore, cipher: FieldCipher, fieldsOf: (layer: string) => ReadonlySet<string> = encryptedFieldsOf): EditStore {
  const seal = (layer: string, f: EditFeature | null): EditFeature | null => {
    if (!f) return f;
    const fields = fieldsOf(layer);
    let props: Record<string, unknown> | undefined;
    for (const [k, v] of Object.entries(f.properties ?? {})) {
      if ((fields.has(k) && v !== null && v !== undefined) || FieldCipher.isEncrypted(v)) {
        (props ??= { ...f.properties })[k] = cipher.encrypt(v, editContext(layer, k));
      }
    }
    return props ? { ...f, properties: props } : f;
  };
  const open = (v: FeatureVersion): FeatureVersion => {
    const f = v.feature;
    if (!f) return v;
    let props: Record<string, unknown> | undefined;
    for (const [k, x] of Object.entries(f.properties ?? {})) {
      if (FieldCipher.isEncrypted(x)) (props ??= { ...f.properties })[k] = cipher.decrypt(x, editContext(v.layer, k));
    }
    return props ? { ...v, feature: { ...f, properties: props } } : v;
  };
  const openAll = (list: FeatureVersion[]) => list.map(open);
  return overlay<EditStore>(store, {
    current: async (layer) => openAll(await store.current(layer)),
    latest: async (layer, id) => { const v = await store.latest(layer, id); return v && open(v); },
    history: async (layer, id) => openAll(await store.history(layer, id)),
    changesSince: async (seq, limit) => openAll(await store.changesSince(seq, limit)),
    commit: async (items, at, audit) => {
      const sealed = items.map((it) => (it.next ? { ...it, next: seal(it.layer, it.next) } : it));
      let stored: FeatureVersion[];
      try {
        stored = await store.commit(sealed, at, audit);
      } catch (e) {
        // The conflict carries the stored version to the client (to merge): it must be the plain one.
        if (e instanceof EditConflictError && e.current) throw new EditConflictError(e.layer, e.id, open(e.current));
        throw e;
      }
      return openAll(stored);
    },
  });
}
