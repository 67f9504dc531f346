import type { Logger } from '../../logger.js';
import type { Sql } from '../../db/index.js';
import { SluiceError } from '../../errors/index.js';
import { getFusion } from './fusion-store.js';
import { selfCalibrate, storeSelfCalibration, type SelfCalibration } from './self-calibration.js';
import { needsSelfCalibration } from './self-calibration-policy.js';

export interface SelfCalibratorOptions {
  sql: Sql;
  /** Served models by id: how each embeds texts (as it embeds queries). */
  embedders: ReadonlyMap<string, (texts: string[]) => Promise<Float32Array[]>>;
  logger: Logger;
  /** How often collections are looked at for a size or model change. @defaultValue 15000 */
  intervalMs?: number;
}

export interface CalibrationKey {
  tenant: string;
  collection: string;
  modelId: string;
}

/**
 * Keeps hybrid search's fusion weight right without a user step: every intervalMs it
 * looks for (collection, model) pairs that self-calibration-policy.ts says are due,
 * and self-calibrates them one at a time; `run` does it on demand. One run per pair at
 * a time in this process (a second caller shares the first's result). API processes
 * do not coordinate: two that calibrate the same pair compute the same weight.
 */
export class SelfCalibrator {
  private readonly running = new Map<
    string,
    Promise<{ calibration: SelfCalibration; stored: boolean }>
  >();
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly o: SelfCalibratorOptions) {}

  start(): void {
    const tick = (): void => {
      this.timer = setTimeout(() => {
        this.sweeping = this.sweep()
          .catch((err: unknown) =>
            this.o.logger.warn({ err }, 'self-calibration: looking for due collections failed'),
          )
          .finally(() => {
            if (!this.stopped) tick();
          });
      }, this.o.intervalMs ?? 15_000);
      this.timer.unref();
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.sweeping;
  }

  /** Self-calibrates every pair that is due, one at a time. */
  async sweep(): Promise<void> {
    const models = [...this.o.embedders.keys()];
    const due = await this.o.sql<
      {
        tenant: string;
        collection: string;
        model_id: string;
        chunks: number;
        calibration: Record<string, unknown> | null;
        stored: boolean;
      }[]
    >`
      SELECT s.tenant, s.collection, s.model_id, s.chunks::int AS chunks, f.calibration,
             f.tenant IS NOT NULL AS stored
      FROM keyword_scopes s LEFT JOIN search_fusion f
        ON f.tenant = s.tenant AND f.collection = s.collection AND f.model_id = s.model_id
      WHERE s.model_id = ANY(${models}::text[])
      ORDER BY s.tenant, s.collection, s.model_id`;
    for (const r of due) {
      if (this.stopped) return;
      if (!needsSelfCalibration(r.stored ? { calibration: r.calibration } : undefined, r.chunks))
        continue;
      const key = { tenant: r.tenant, collection: r.collection, modelId: r.model_id };
      try {
        await this.run(key);
      } catch (err) {
        // Too small to calibrate (too few sentences to hold out) is not a failure.
        if (!(err instanceof SluiceError && err.code === 'CALIBRATION_TOO_SMALL'))
          this.o.logger.warn({ err, model: r.model_id }, 'self-calibration failed');
      }
    }
  }

  /**
   * Self-calibrates one collection and model now, and stores the weight unless one
   * calibrated on judged queries or set by hand is stored (`stored` says which).
   */
  async run(key: CalibrationKey): Promise<{ calibration: SelfCalibration; stored: boolean }> {
    const id = `${key.tenant}\u0000${key.collection}\u0000${key.modelId}`;
    const pending = this.running.get(id);
    if (pending) return pending;
    const work = this.calibrate(key).finally(() => this.running.delete(id));
    this.running.set(id, work);
    return work;
  }

  private async calibrate(
    key: CalibrationKey,
  ): Promise<{ calibration: SelfCalibration; stored: boolean }> {
    const embed = this.o.embedders.get(key.modelId);
    if (!embed) throw new SluiceError('MODEL_UNKNOWN', `model '${key.modelId}' is not served here`);
    const started = performance.now();
    const calibration = await selfCalibrate(this.o.sql, { ...key, embed });
    if (!calibration) {
      const stored = await getFusion(this.o.sql, key.tenant, key.collection, key.modelId);
      throw new SluiceError(
        'CALIBRATION_TOO_SMALL',
        `collection '${key.collection}' has too few chunks to hold a sentence out of for self-calibration; hybrid keeps weight ${stored?.vectorWeight ?? 'default'}`,
      );
    }
    const stored = await storeSelfCalibration(this.o.sql, key, calibration);
    this.o.logger.info(
      {
        model: key.modelId,
        vectorWeight: calibration.vectorWeight,
        queries: calibration.queries,
        chunks: calibration.chunks,
        keyword: calibration.keyword,
        vector: calibration.vector,
        stored,
        ms: Math.round(performance.now() - started),
      },
      'self-calibrated the hybrid fusion weight',
    );
    return { calibration, stored };
  }
}
