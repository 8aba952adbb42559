import { contextOseDetector } from './context-ose-detector.js';
import type { Detection, Detector } from './detector.js';
import { zScoreDetector } from './detectors.js';
import { seasonalDetector } from './seasonal.js';

export interface EnsembleConfig {
  /** Scores at or above this count as an alarm for the quiet period below. */
  readonly alarmLevel: number;
  /** After an alarm, scores are damped for this many samples: one anomaly, one alarm. */
  readonly quietSamples: number;
  readonly quietFactor: number;
}

export const DEFAULT_ENSEMBLE: EnsembleConfig = { alarmLevel: 0.5, quietSamples: 150, quietFactor: 0.3 };

/** The default members: a long-window z-score (6,400 samples) and the seasonal detector. */
export const defaultMembers = (): Detector[] => [zScoreDetector(6400), seasonalDetector()];

/**
 * The accurate, slow alternative: CAD OSE alone (it rests after its own alarms, so no damping here).
 * On the NAB subset it scores far higher than the default, but runs about a thousand times slower and
 * its checkpoint holds its context memory (up to 65,536 contexts): for series that warrant it.
 */
export const CONTEXT_OSE_ENSEMBLE: EnsembleConfig = { alarmLevel: 1, quietSamples: 0, quietFactor: 1 };
export const contextOseMembers = (): Detector[] => [contextOseDetector()];

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
 * The default members are a long-window z-score (6,400 samples, NAB's windowed Gaussian idea) and the
 * seasonal detector (same phase of earlier periods), damped for 150 samples after an alarm. On the NAB
 * subset the seasonal member adds about 3.6 points (Standard) to the z-score alone; the faster
 * detectors (EWMA, MAD, CUSUM, short windows) measured lower, because they add false alarms faster
 * than they find anomalies. `CONTEXT_OSE_ENSEMBLE` with `contextOseMembers()` scores much higher on
 * NAB but is about a thousand times slower.
 */
export function createEnsemble(config: EnsembleConfig = DEFAULT_ENSEMBLE, detectors?: Detector[]) {
  const members = detectors ?? defaultMembers();
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
      // A member missing from an older checkpoint (one saved before it joined) starts fresh.
      for (const [i, m] of members.entries())
        if (state.members[i] !== undefined && state.members[i] !== null) m.restore(state.members[i]);
    },
  };
}
