import type { Detection, Detector } from './detector.js';
import { zScoreDetector } from './detectors.js';

export interface EnsembleConfig {
  /** Scores at or above this count as an alarm for the quiet period below. */
  readonly alarmLevel: number;
  /** After an alarm, scores are damped for this many samples: one anomaly, one alarm. */
  readonly quietSamples: number;
  readonly quietFactor: number;
}

export const DEFAULT_ENSEMBLE: EnsembleConfig = { alarmLevel: 0.5, quietSamples: 150, quietFactor: 0.3 };

export interface EnsembleDetection {
  readonly score: number;
  /** The detector with the highest score, and what each said. */
  readonly strongest: Detection | null;
  readonly detections: readonly Detection[];
}

/**
 * The detector ensemble: its members' scores combined into one calibrated score — the strongest
 * member's — damped for a while after an alarm so that one anomaly raises one alarm.
 *
 * The default members are, for now, a single long-window z-score (6,400 samples, NAB's windowed
 * Gaussian idea), damped for 150 samples after an alarm: on the NAB subset every combination with the
 * faster detectors (EWMA, MAD, CUSUM, short windows) measured lower, because they add false alarms
 * faster than they find anomalies.
 */
export function createEnsemble(config: EnsembleConfig = DEFAULT_ENSEMBLE, detectors?: Detector[]) {
  const members = detectors ?? [zScoreDetector(6400)];
  let sinceAlarm = Number.POSITIVE_INFINITY;
  return {
    update(value: number): EnsembleDetection {
      const detections: Detection[] = [];
      for (const d of members) {
        const out = d.update(value);
        if (out) detections.push(out);
      }
      let strongest: Detection | null = null;
      for (const d of detections) if (!strongest || d.score > strongest.score) strongest = d;
      let score = strongest?.score ?? 0;
      if (sinceAlarm < config.quietSamples) score *= config.quietFactor;
      sinceAlarm++;
      if (score >= config.alarmLevel) sinceAlarm = 0;
      return { score, strongest, detections };
    },
    snapshot(): { sinceAlarm: number | null; members: unknown[] } {
      return {
        sinceAlarm: Number.isFinite(sinceAlarm) ? sinceAlarm : null,
        members: members.map((m) => m.snapshot()),
      };
    },
    restore(state: { sinceAlarm: number | null; members: unknown[] }): void {
      sinceAlarm = state.sinceAlarm ?? Number.POSITIVE_INFINITY;
      for (const [i, m] of members.entries()) m.restore(state.members[i]);
    },
  };
}
