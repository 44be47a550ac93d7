import { describe, expect, it } from 'vitest';
import { matchRule, methodsFor, ROUTE_RULES, ruleFor } from './policy.ts';

describe('ROUTE_RULES', () => {
  it('makes only the page, the basemap, health, terrain and sign-in public', () => {
    const pub = ROUTE_RULES.filter((r) => r.roles === 'public').map((r) => `${r.method} ${r.pattern}`);
    expect(pub).toEqual([
      'GET /', 'GET /assets/*', 'GET /cesium/*', 'GET /icons/*', 'GET /healthz', 'GET /tiles/basemap.json', 'GET /tiles/basemap/*',
      'GET /pmtiles/basemap.pmtiles', 'GET /terrain/*', 'GET /api/session', 'POST /api/session', 'DELETE /api/session', 'GET /*',
    ]);
  });

  it('fails closed: an API path no rule names has no rule (404), whatever the method', () => {
    for (const [m, p] of [['GET', '/api/nothing'], ['POST', '/api/incidents/x/unknown'], ['GET', '/ogc/collections/a/b/c/d'], ['GET', '/data/x.geojson'], ['PUT', '/api/users'], ['POST', '/mqtt']]) {
      expect(ruleFor(m, p), `${m} ${p}`).toBeNull();
    }
    expect(methodsFor('/api/users')).toEqual(['GET', 'POST']);
    // MQTT over WebSocket is a rule of its own (operators and admins), not the public web-app fallback.
    expect(ruleFor('GET', '/mqtt')?.roles).toEqual(['admin', 'operator']);
  });

  it('matches parameters, suffixes and HEAD as GET', () => {
    expect(matchRule('HEAD', '/data/grids.fgb')).toMatchObject({ rule: { pattern: '/data/:layer.fgb', roles: 'signed_in' }, params: { layer: 'grids' } });
    expect(matchRule('GET', '/ogc/collections/towns/items/t1?f=json')?.params).toEqual({ layer: 'towns', id: 't1' });
    expect(ruleFor('GET', '/tiles/basemap/12/3/4.mvt')?.roles).toBe('public');
    expect(ruleFor('GET', '/tiles/overlay/12/3/4.mvt')?.roles).toBe('signed_in');
    expect(ruleFor('GET', '/pmtiles/overlay.pmtiles')?.roles).toBe('signed_in');
    expect(ruleFor('POST', '/api/incidents/abc/transitions')?.roles).toEqual(['admin', 'operator', 'grid_manager']);
    expect(ruleFor('GET', '/api/audit')?.roles).toEqual(['admin']);
    // Client-side routes and root files of the web app are public; reserved prefixes are not.
    expect(ruleFor('GET', '/sw.js')?.roles).toBe('public');
    expect(ruleFor('GET', '/some/client/route')?.roles).toBe('public');
    expect(ruleFor('GET', '/api')).toBeNull();
  });

  it('has no rule that an earlier rule hides', () => {
    const samples = ROUTE_RULES.map((r) => [r.method === '*' ? 'GET' : r.method, r.pattern.replace(/:([a-z]+)/g, 'x').replace(/\*$/, 'y')] as const);
    ROUTE_RULES.forEach((r, i) => {
      if (r.pattern === '/*') return; // the web app's catch-all comes last on purpose
      expect(matchRule(samples[i][0], samples[i][1])?.rule, `${r.method} ${r.pattern}`).toBe(r);
    });
  });
});
