// Opens the indicator system beside the other services (server.ts): the store (SQLite `indicators.sqlite` beside the
// incident file, or schema `indicators` in the incidents' PostgreSQL), the gatherer over the running services, the
// engine with its schedule, and the HTTP API.
import type { FgbFile } from '../../layers/formats/flatgeobuf.ts';
import type { IncidentService } from '../incidents/service.ts';
import type { PatrolStore } from '../patrol.ts';
import type { TelemetryService } from '../telemetry/service.ts';
import { IndicatorApi } from './api.ts';
import { Gatherer } from './gather.ts';
import { IndicatorService } from './service.ts';
import { openIndicatorStore } from './store.ts';

export interface OpenIndicatorsOptions {
  dataDir: string;
  databaseUrl?: string | null;
  incidentDbFile?: string;
  /** SQLite file (default: indicators.sqlite beside incidentDbFile, else ONEMAP_INDICATORS_FILE or var/indicators.sqlite). */
  file?: string;
  incidents?: Promise<IncidentService>;
  telemetry?: Promise<TelemetryService>;
  patrols?: Promise<PatrolStore>;
  layerFile?: (layer: string) => Promise<FgbFile>;
  clock: () => number;
  log: (msg: string) => void;
  /** Schedule; 0 = never. Default 15 min. */
  intervalMs?: number;
  computeAtStart?: boolean;
  factsFile?: string;
}

export async function openIndicators(o: OpenIndicatorsOptions): Promise<{ service: IndicatorService; api: IndicatorApi }> {
  const store = await openIndicatorStore({ databaseUrl: o.databaseUrl, incidentDbFile: o.incidentDbFile, file: o.file });
  const gatherer = new Gatherer({
    dataDir: o.dataDir, incidents: o.incidents, telemetry: o.telemetry, patrols: o.patrols, layerFile: o.layerFile, factsFile: o.factsFile, log: o.log,
  });
  let service: IndicatorService;
  try {
    service = await IndicatorService.open({ store, gatherer, clock: o.clock, log: o.log, intervalMs: o.intervalMs, computeAtStart: o.computeAtStart });
  } catch (e) {
    await store.close().catch(() => {});
    throw e;
  }
  return { service, api: new IndicatorApi(service, o.clock) };
}
