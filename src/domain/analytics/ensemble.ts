import { contextOseDetector } from './context-ose-detector.js';
import { type Detection, type Detector, FULL_SCALE_SIGMAS } from './detector.js';
import { zScoreDetector } from './detectors.js';
import { DEFAULT_DRIFT, DriftDetector, type DriftOptions, type DriftState } from './drift.js';
import { seasonalDetector } from './seasonal.js';
import { transitionDetector } from './transitions.js';

export interface EnsembleConfig {
  /** Scores at or above this count as an alarm for the quiet period below. */
  readonly alarmLevel: number;
  /** After an alarm, scores are damped for this many samples: one anomaly, one alarm (0: never). */
  readonly quietSamples: number;
  readonly quietFactor: number;
  /**
   * How the members' scores make one: the strongest member's (`max`, the default) or their mean
   * (`mean`; a member still warming up counts 0).
   */
  readonly combine?: 'max' | 'mean';
  /** The first far-beyond-normal sample after a calm stretch scores by its distance (see below). */
  readonly excursions?: ExcursionConfig;
  /**
   * A third view, outside the mean: a slow shift of the level (`drift.ts`). Its first drift after a
   * calm raises the score to the drift's score (the members' view otherwise).
   */
  readonly drift?: DriftOptions;
}

/**
 * An excursion: a sample at least `sigmas` standard deviations from what a member expected (its
 * `Detection.sigmas`). The first one after `calmSamples` samples without any scores at least
 * `(1 + min(1, log10(deviation / sigmas))) / 2`: 0.5 at `sigmas`, 1 at ten times that distance,
 * whether or not the sequence view finds the step new (a far excursion after a long calm is itself
 * news). Later ones within the calm period score as the members say.
 */
export interface ExcursionConfig {
  readonly sigmas: number;
  readonly calmSamples: number;
}

/**
 * The default: the mean of two views of each sample, with no extra damping (the transition member
 * rests after its own alarms), and a third view outside the mean for slow shifts:
 * - sequence: a novel transition between value levels (`transitions.ts`);
 * - level: the stronger of a long-window z-score (6,400 samples, NAB's windowed Gaussian idea) and the
 *   seasonal detector (same phase of earlier periods).
 * An alarm needs either a new kind of step together with some deviation, or a deviation far beyond
 * both views' normal. A deviation beyond the level view's full scale (|z| ≈ 6.07) scores 0.5 at
 * least (the level view's half of the mean); the first one after 500 calm samples scores more, by its
 * distance (`ExcursionConfig`). A slow shift of the level that neither view sees (no new step, no unusual
 * sample) scores 0.75 the first time after a calm (`drift.ts`).
 */
export const DEFAULT_ENSEMBLE: EnsembleConfig = {
  alarmLevel: 1,
  quietSamples: 0,
  quietFactor: 1,
  combine: 'mean',
  excursions: { sigmas: FULL_SCALE_SIGMAS, calmSamples: 500 },
  drift: DEFAULT_DRIFT,
};

export const defaultMembers = (): Detector[] => [
  transitionDetector(),
  strongestOf('level', [zScoreDetector(6400), seasonalDetector()]),
];

/**
 * The slow alternative: CAD OSE alone (it rests after its own alarms, so no damping here). On the NAB
 * subset it scores a little below the default and runs about a thousand times slower, with its context
 * memory (up to 65,536 contexts) in every checkpoint.
 */
export const CONTEXT_OSE_ENSEMBLE: EnsembleConfig = { alarmLevel: 1, quietSamples: 0, quietFactor: 1 };
export const contextOseMembers = (): Detector[] => [contextOseDetector()];

export interface EnsembleDetection {
  readonly score: number;
  /** The detector with the highest score, and what each said. */
  readonly strongest: Detection | null;
  readonly detections: readonly Detection[];
}

export interface EnsembleState extends MembersState {
  /** Samples since the last alarm (null: none yet). */
  sinceAlarm: number | null;
  /** Samples since the last far-beyond-normal sample (null: none yet; absent in older checkpoints). */
  sinceExcursion?: number | null;
  /** The drift view (absent in older checkpoints: it starts fresh). */
  drift?: DriftState;
}

export interface MembersState {
  /** Each member's name, so that a checkpoint only restores the member it was taken from. */
  names?: string[];
  members: unknown[];
}

function snapshotMembers(members: readonly Detector[]): MembersState {
  return { names: members.map((m) => m.name), members: members.map((m) => m.snapshot()) };
}

/**
 * Restores each member from the state taken from the member of the same name at the same place; any
 * other member (one that joined since, or a state without names, from before members were named)
 * starts fresh.
 */
function restoreMembers(members: readonly Detector[], state: MembersState): void {
  for (const [i, m] of members.entries())
    if (state.names?.[i] === m.name && state.members[i] !== undefined) m.restore(state.members[i]);
}

/** Higher score, or the same score (both saturated, say) and a larger deviation. */
const isStronger = (a: Detection, b: Detection) =>
  a.score > b.score || (a.score === b.score && (a.sigmas ?? 0) > (b.sigmas ?? 0));

/** A detector that reports its strongest member's detection (the members see every sample). */
export function strongestOf(name: string, members: readonly Detector[]): Detector {
  return {
    name,
    update(value) {
      let strongest: Detection | null = null;
      for (const m of members) {
        const out = m.update(value);
        if (out && (!strongest || isStronger(out, strongest))) strongest = out;
      }
      return strongest;
    },
    snapshot: () => snapshotMembers(members),
    restore: (state) => restoreMembers(members, state as MembersState),
  };
}

/**
 * The detector ensemble: its members' scores combined into one calibrated score (see `combine`),
 * optionally damped for a while after an alarm so that one anomaly raises one alarm.
 *
 * On the NAB subset (29 files), the default scores 75.53 / 65.92 / 80.95 (Standard / Reward Low FP /
 * Reward Low FN); without its drift view 71.54 / 62.93 / 76.66, without the excursion rule as well
 * 68.20 / 60.57 / 72.79, CAD OSE alone 66.85 / 60.06 / 71.70, the default before (a damped
 * long-window z-score) 50.31 / 31.52 / 58.68.
 */
export function createEnsemble(config: EnsembleConfig = DEFAULT_ENSEMBLE, detectors?: Detector[]) {
  const members = detectors ?? defaultMembers();
  const mean = config.combine === 'mean';
  const excursions = config.excursions;
  const drift = config.drift ? new DriftDetector(config.drift) : null;
  let sinceAlarm = Number.POSITIVE_INFINITY;
  let sinceExcursion = Number.POSITIVE_INFINITY;
  return {
    update(value: number): EnsembleDetection {
      const detections: Detection[] = [];
      let strongest: Detection | null = null;
      let sum = 0;
      let farthest = 0;
      for (const m of members) {
        const out = m.update(value);
        if (!out) continue;
        detections.push(out);
        sum += out.score;
        if (!strongest || out.score > strongest.score) strongest = out;
        if (out.sigmas !== undefined && out.sigmas > farthest) farthest = out.sigmas;
      }
      let score = mean ? sum / members.length : (strongest?.score ?? 0);
      if (excursions) {
        if (farthest >= excursions.sigmas) {
          if (sinceExcursion >= excursions.calmSamples)
            score = Math.max(score, (1 + Math.min(1, Math.log10(farthest / excursions.sigmas))) / 2);
          sinceExcursion = 0;
        } else sinceExcursion++;
      }
      if (drift) {
        const shift = drift.check(value);
        if (shift > score) {
          score = shift;
          strongest = drift.detection(shift);
          detections.push(strongest);
        }
      }
      if (sinceAlarm < config.quietSamples) score *= config.quietFactor;
      sinceAlarm++;
      if (score >= config.alarmLevel) sinceAlarm = 0;
      return { score, strongest, detections };
    },
    snapshot(): EnsembleState {
      return {
        sinceAlarm: Number.isFinite(sinceAlarm) ? sinceAlarm : null,
        sinceExcursion: Number.isFinite(sinceExcursion) ? sinceExcursion : null,
        ...(drift ? { drift: drift.snapshot() } : {}),
        ...snapshotMembers(members),
      };
    },
    /** A checkpoint from before excursions were tracked restores as after a long calm. */
    restore(state: EnsembleState): void {
      sinceAlarm = state.sinceAlarm ?? Number.POSITIVE_INFINITY;
      sinceExcursion = state.sinceExcursion ?? Number.POSITIVE_INFINITY;
      if (drift) drift.restore(state.drift ?? new DriftDetector(config.drift).snapshot());
      restoreMembers(members, state);
    },
  };
}
