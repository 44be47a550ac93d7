// Which stored fields are encrypted at rest: those graded sensitive or core — a personal field (FieldDef.personal:
// names, phone numbers; at least 'sensitive' by layers/governance/model.ts) or one Governance.fieldGrades grades so.
// The layer's own grade decides who may see the layer (access.ts); encryption is for the values that name or
// reach a person, so a stolen database file or dump does not yield them.
import { getLayer } from '../../layers/catalog.ts';
import { GOVERNANCE } from '../../layers/governance/grades.ts';
import { GRADE_INFO } from '../../layers/governance/model.ts';

const SENSITIVE_RANK = GRADE_INFO.sensitive.rank;

/** Field names of `layer` whose values are stored encrypted (empty for an unknown layer). */
export function encryptedFieldsOf(layer: string): ReadonlySet<string> {
  const out = new Set<string>();
  const def = getLayer(layer);
  for (const f of def?.fields ?? []) if (f.personal) out.add(f.name);
  for (const [name, grade] of Object.entries(GOVERNANCE[layer]?.fieldGrades ?? {})) {
    if (GRADE_INFO[grade].rank >= SENSITIVE_RANK) out.add(name);
  }
  return out;
}
