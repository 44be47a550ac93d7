import { describe, expect, it } from 'vitest';
import { getLayer, LAYERS } from '../catalog.ts';
import {
  checkUnmaskReason, decodeReasonHeader, gridOf, hasPersonal, keepMaskedUnchanged, maskKind, maskProperties, personalAccess, type MaskActor,
} from './masking.ts';

const grids = getLayer('grids')!;
const responders = getLayer('responders')!;
const towns = getLayer('towns')!;
const gridProps = { id: 'g1', code: '320581001001001', name: '一网格', manager_id: 'm1', manager_name: '张小明', manager_phone: '13812345678' };
const responder = { id: 'r1', name: '欧阳小明', phone: '13912345678', kind: 'patrol', grid_code: '320581001001002' };

const as = (role: MaskActor['role'], grids?: string[]): MaskActor => ({ id: `${role}-1`, role, grids });

describe('personalAccess', () => {
  it('gives admin, operator and system full access, planner/analyst/responder/anonymous masked', () => {
    for (const r of ['admin', 'operator', 'system'] as const) expect(personalAccess(as(r), grids, gridProps)).toBe('full');
    for (const r of ['planner', 'analyst', 'responder'] as const) expect(personalAccess(as(r), grids, gridProps)).toBe('masked');
    expect(personalAccess(null, grids, gridProps)).toBe('masked');
  });

  it('scopes a grid manager to their grids: the grids layer by code, other layers by grid_code', () => {
    const gm = as('grid_manager', ['320581001001001']);
    expect(personalAccess(gm, grids, gridProps)).toBe('full');
    expect(personalAccess(gm, grids, { ...gridProps, code: '320581001001009' })).toBe('masked');
    expect(personalAccess(gm, responders, responder)).toBe('masked');
    expect(personalAccess(as('grid_manager', ['320581001001002']), responders, responder)).toBe('full');
    expect(personalAccess(as('grid_manager'), responders, responder)).toBe('masked');
    expect(personalAccess(gm, responders, { ...responder, grid_code: null })).toBe('masked');
    expect(gridOf(grids, gridProps)).toBe('320581001001001');
  });
});

describe('maskProperties', () => {
  it('masks names and phones of the catalog personal fields, nothing else', () => {
    const m = maskProperties(grids, gridProps, 'masked');
    expect(m).toEqual({ ...gridProps, manager_name: '张*明', manager_phone: '138****5678' });
    expect(maskProperties(responders, responder, 'masked')).toMatchObject({ name: '欧**明', phone: '139****5678', kind: 'patrol' });
  });

  it('returns the input untouched for full access and for layers without personal fields; never mutates', () => {
    const copy = { ...gridProps };
    expect(maskProperties(grids, gridProps, 'full')).toBe(gridProps);
    maskProperties(grids, gridProps, 'masked');
    expect(gridProps).toEqual(copy);
    const t = { id: 't', name: '虞山街道' };
    expect(maskProperties(towns, t, 'masked')).toBe(t);
  });

  it('keeps null and missing values, masks unexpected types', () => {
    expect(maskProperties(responders, { id: 'x', name: null }, 'masked')).toEqual({ id: 'x', name: null });
    expect(maskProperties(responders, { id: 'x', phone: 13812345678 }, 'masked')).toEqual({ id: 'x', phone: '138****5678' });
    expect(maskProperties(responders, { id: 'x', name: { first: '张' } }, 'masked')).toEqual({ id: 'x', name: '***' });
  });

  it('masks ID numbers by kind', () => {
    expect(maskKind({ name: 'id_number' })).toBe('id_number');
    expect(maskKind({ name: 'manager_phone' })).toBe('phone');
    expect(maskKind({ name: 'manager_name' })).toBe('name');
    const def = { fields: [{ name: 'id_number', type: 'string' as const, title: '身份证号', personal: true }] };
    expect(maskProperties(def, { id_number: '320581199001011234' }, 'masked')).toEqual({ id_number: '3205************34' });
  });

  it('every catalog layer with personal fields has a grid to scope by', () => {
    for (const l of LAYERS.filter(hasPersonal)) {
      expect(l.id === 'grids' || l.fields.some((f) => f.name === 'grid_code'), l.id).toBe(true);
    }
  });
});

describe('checkUnmaskReason', () => {
  it('no header: no reason, masking applies', () => {
    expect(checkUnmaskReason(as('analyst'), undefined)).toEqual({ ok: true, reason: null });
  });
  it('accepts 5–200 characters from analyst, operator, admin', () => {
    for (const r of ['analyst', 'operator', 'admin'] as const) {
      expect(checkUnmaskReason(as(r), '  核查案件当事人  ')).toEqual({ ok: true, reason: '核查案件当事人' });
    }
  });
  it('refuses a short, long or control-character reason with 400', () => {
    for (const bad of ['看看', '', 'x'.repeat(201), 'abc\ndefgh']) {
      expect(checkUnmaskReason(as('analyst'), bad)).toMatchObject({ ok: false, status: 400, code: 'bad_unmask_reason' });
    }
  });
  it('refuses planners, grid managers and anonymous callers with 403', () => {
    for (const a of [as('planner'), as('grid_manager', ['1']), null]) {
      expect(checkUnmaskReason(a, '核查案件当事人信息')).toMatchObject({ ok: false, status: 403, code: 'unmask_forbidden' });
    }
  });
  it('decodes percent-encoded reasons (browsers cannot send raw Chinese header values)', () => {
    expect(decodeReasonHeader(encodeURIComponent('核查案件当事人'))).toBe('核查案件当事人');
    expect(decodeReasonHeader('100% sure%zz')).toBe('100% sure%zz');
  });
});

// Who may see a layer at all (LayerDef.roles, grade, sharing grants) is layers/governance/access.ts (issue 10).

describe('keepMaskedUnchanged', () => {
  it('keeps the stored value when the masked form comes back, takes real changes', () => {
    const back = maskProperties(grids, gridProps, 'masked');
    expect(keepMaskedUnchanged(grids, back, gridProps)).toEqual(gridProps);
    const changed = { ...back, manager_phone: '13900000000', name: '新名' };
    expect(keepMaskedUnchanged(grids, changed, gridProps)).toEqual({ ...gridProps, manager_phone: '13900000000', name: '新名' });
    expect(keepMaskedUnchanged(grids, back, null)).toBe(back);
  });
});
