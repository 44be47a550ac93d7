// Live telemetry in a real browser (issue 7 item 5): readings published over MQTT to the embedded broker reach
// the page over /ws; one above the water-level warning (3.7 m) raises an alarm that shows in the alarm list
// and on the map; device health shows the counts; the alarm opens the device's card with its chart and the
// 3.7 m threshold line. No request leaves 127.0.0.1.
// Needs: geodata/build (npm run data && npm run tiles) and Debian packages chromium + fonts-noto-cjk.
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeJson } from '../tile-server/telemetry/payload.ts';
import { topicFor } from '../layers/telemetry/model.ts';
import type { TelemetryService } from '../tile-server/telemetry/service.ts';
import { useBrowserFixture } from './helpers/browser.ts';

async function waitFor(what: string, ok: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('live telemetry in the browser', () => {
  // The operator watches alarms; the embedded broker, incidents and the time series live in the fixture's temp directory.
  const { srv: server, browser } = useBrowserFixture({
    user: 'operator',
    server: (dir) => ({
      databaseUrl: null, sweepIntervalMs: 0,
      telemetry: { mqttUrl: null, mqttPort: 0, clientId: `onemap-browser-telemetry-${process.pid}`, databaseUrl: null, file: join(dir, 'telemetry.sqlite'), tickMs: 0 },
    }),
  });
  let tel: TelemetryService;
  let pub: MqttClient;

  beforeAll(async () => {
    tel = await server.server.telemetry;
    await waitFor('the ingest to connect', () => tel.ingest.stats().connected);
    pub = await mqtt.connectAsync(tel.brokerUrl, { clientId: `browser-telemetry-pub-${process.pid}`, clean: true });
  }, 300_000);

  afterAll(async () => {
    await pub?.endAsync();
  });

  it('a reading over 3.7 m shows as an alarm live, health shows counts, the alarm opens the device card with its chart', async () => {
    const list = await (await browser.fetch(`${server.url}/api/devices?kind=water_level&limit=1`)).json() as { items: { id: string; lon: number; lat: number }[] };
    const d = list.items[0];
    expect(d, 'a water-level gauge in the built city').toBeTruthy();
    const { page, requests, pageErrors } = browser;
    // The page opens zoomed in on the gauge, so it is inside the subscription from the start.
    await page.goto(`${server.url}/?lon=${d.lon}&lat=${d.lat}&zoom=15`);
    await page.waitForFunction(() => document.documentElement.dataset.engineReady === '1', null, { timeout: 180_000, polling: 500 });
    await page.locator('[data-panel="alarms"] h2 button').click();
    await page.waitForSelector('.alarm-list .live[data-live="open"]', { timeout: 60_000 });

    const t0 = Date.now() - 10 * 60_000;
    const values = [3.2, 3.35, 3.5, 3.62, 3.95];
    for (let i = 0; i < values.length; i++) {
      await pub.publishAsync(topicFor('water_level', d.id), Buffer.from(encodeJson({ ts: t0 + i * 60_000, value: values[i] })), { qos: 1 });
    }
    // Live: the alarm reaches the list over /ws (the list loaded before it was raised).
    const item = page.locator(`.alarm-list li[data-device="${d.id}"]`);
    await item.first().waitFor({ timeout: 60_000 });
    expect(await item.first().textContent()).toContain('水位');
    expect(await page.getByTestId('alarm-count').textContent()).toMatch(/未消除告警 [1-9]\d* 条/);

    await page.locator('[data-panel="health"] h2 button').click();
    await page.getByTestId('health-total').waitFor({ timeout: 60_000 });
    const total = Number(await page.getByTestId('health-total').textContent());
    const online = Number(await page.getByTestId('health-online').textContent());
    expect(total).toBeGreaterThan(20_000); // sensors + cameras + patrols of the built city
    expect(online).toBeGreaterThanOrEqual(0);
    expect(await page.locator('.device-health tr[data-key="water_level"]').count()).toBe(1);

    // The alarm → the device's card: status alarm, a chart of the five readings with the 3.7 m line.
    await item.first().locator('button').click();
    const card = page.locator(`.device-card[data-device="${d.id}"]`);
    await card.waitFor({ timeout: 60_000 });
    await page.waitForSelector(`.device-card[data-device="${d.id}"] .device-chart[data-readings="5"]`, { timeout: 60_000 });
    expect(await card.getAttribute('data-status')).toBe('alarm');
    expect(await card.locator('.threshold[data-value="3.7"]').count()).toBe(1);
    expect(await card.locator('circle.over').count()).toBe(1);
    expect(await card.locator('path.series').getAttribute('d')).toMatch(/^M[\d.]+,[\d.]+(L[\d.]+,[\d.]+){4}$/);

    // A later reading reaches the open card's chart live (no reload).
    await pub.publishAsync(topicFor('water_level', d.id), Buffer.from(encodeJson({ ts: t0 + 5 * 60_000, value: 3.99 })), { qos: 1 });
    await page.waitForSelector(`.device-card[data-device="${d.id}"] .device-chart[data-readings="6"]`, { timeout: 60_000 });

    expect(requests.foreign).toEqual([]);
    expect(pageErrors).toEqual([]);
  }, 400_000);
});
