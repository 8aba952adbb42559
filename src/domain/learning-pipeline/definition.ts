import { z } from 'zod';
import { Algorithm, Task } from '../model/events.js';

/**
 * A learning pipeline's definition: what it reads (a window of series, as a dataset recipe without its
 * time range), what it trains and how it is judged, when it runs (by hand, on a schedule, or on arriving
 * data with incremental updates) and its graph of tasks, each with its retries, timeout and priority.
 */

export const TASK_KINDS = ['read', 'features', 'train', 'evaluate', 'register', 'promote'] as const;
export const TaskKind = z.enum(TASK_KINDS);
export type TaskKind = z.infer<typeof TaskKind>;

/** What a task of each kind takes: the output of the one task of each of these kinds upstream of it. */
export const TASK_INPUTS: Readonly<Record<TaskKind, readonly TaskKind[]>> = {
  read: [],
  features: ['read'],
  train: ['features'],
  evaluate: ['features', 'train'],
  register: ['features', 'train', 'evaluate'],
  promote: ['register'],
};

const taskId = z
  .string()
  .regex(/^[a-z][A-Za-z0-9_-]{0,63}$/, 'must start with a lower-case letter; letters, digits, _ and -');

export const TaskSpec = z
  .object({
    id: taskId,
    kind: TaskKind,
    dependsOn: z.array(taskId).max(20).default([]),
    /** Attempts after the first before the run fails at this task. */
    retries: z.number().int().min(0).max(10).default(2),
    /** An attempt running longer fails (and is retried while retries remain). */
    timeoutMs: z
      .number()
      .int()
      .min(100)
      .max(24 * 3_600_000)
      .default(600_000),
    /** Among tasks ready at once, the higher runs first (then the order listed). */
    priority: z.number().int().min(0).max(100).default(0),
  })
  .strict();
export type TaskSpec = z.output<typeof TaskSpec>;

/** The usual graph: read → features → train → evaluate → register → promote. */
export const standardTasks = (): TaskSpec[] =>
  TASK_KINDS.map((kind, i) => TaskSpec.parse({ id: kind, kind, dependsOn: i ? [TASK_KINDS[i - 1]] : [] }));

const jsonObject = z.record(z.string(), z.unknown());

export const PromotionRule = z
  .object({
    /** The holdout metric compared (default: rmse for regression, f1 for classification, silhouette for clustering). */
    metric: z.string().min(1).max(50).optional(),
    /** The candidate must beat the deployed version by at least this much (in the metric's units). */
    minImprovement: z.number().min(0).default(0),
  })
  .strict();
export type PromotionRule = z.output<typeof PromotionRule>;

export const LearningPipelineDefinition = z
  .object({
    /** The model the pipeline trains; registered with this recipe if it does not exist yet. */
    modelId: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[A-Za-z_][A-Za-z0-9_.:-]*$/, 'must start with a letter or _; letters, digits, _ . : -'),
    description: z.string().max(2000).optional(),
    /** Which built-in pipeline made this definition, if one did (for display). */
    builtIn: z.string().max(50).optional(),
    /** `batch`: a full fit on the window; `realtime`: incremental updates on the rows since the last run. */
    mode: z.enum(['batch', 'realtime']).default('batch'),
    /** Batch: run every this many ms (0: only when asked). Realtime: look for new rows this often. */
    scheduleMs: z.number().int().min(0).default(0),
    /** Among pipelines due at once, the higher starts first. */
    priority: z.number().int().min(0).max(100).default(0),
    /** The window read: the last `windowMs` before the run (realtime: at most this much since the last run). */
    windowMs: z
      .number()
      .int()
      .min(1)
      .max(366 * 86_400_000),
    /** Realtime: fewest new steps (of `dataset.stepMs`) before an update runs. */
    minNewSteps: z.number().int().min(1).max(100_000).default(10),
    /** A series dataset recipe (see the models API) without `from` and `to`: the run gives the window. */
    dataset: jsonObject,
    training: z
      .object({
        algorithm: Algorithm,
        implementation: z.string().min(1).max(100).optional(),
        task: Task,
        params: jsonObject.default({}),
        seed: z.number().int().default(0),
        features: jsonObject.default({}),
        testFraction: z.number().gt(0).lt(1).default(0.25),
        /** Realtime updates: the step size of the gradient (linear models); k-means uses 1/count. */
        learningRate: z.number().gt(0).lt(2).optional(),
      })
      .strict(),
    promote: PromotionRule.default({ minImprovement: 0 }),
    tasks: z.array(TaskSpec).min(1).max(50).optional(),
  })
  .strict()
  .superRefine((d, ctx) => {
    for (const issue of graphIssues(d.tasks ?? standardTasks()))
      ctx.addIssue({ code: 'custom', path: ['tasks', ...issue.path], message: issue.message });
    if (d.mode === 'realtime' && d.scheduleMs === 0)
      ctx.addIssue({
        code: 'custom',
        path: ['scheduleMs'],
        message: 'a realtime pipeline needs how often to look for new rows (above 0)',
      });
  });
export type LearningPipelineDefinition = z.output<typeof LearningPipelineDefinition>;
export type LearningPipelineInput = z.input<typeof LearningPipelineDefinition>;

/** The tasks of a definition (the standard graph when it lists none). */
export const tasksOf = (d: LearningPipelineDefinition): readonly TaskSpec[] => d.tasks ?? standardTasks();

/** Every task upstream of `id` (its dependencies, theirs, …). */
export function upstream(tasks: readonly TaskSpec[], id: string): TaskSpec[] {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const seen = new Set<string>();
  const walk = (t: string) => {
    for (const dep of byId.get(t)?.dependsOn ?? []) {
      if (seen.has(dep)) continue;
      seen.add(dep);
      walk(dep);
    }
  };
  walk(id);
  return tasks.filter((t) => seen.has(t.id));
}

/** The task upstream of `id` whose output it takes, by kind. */
export function inputsOf(tasks: readonly TaskSpec[], id: string): Partial<Record<TaskKind, string>> {
  const task = tasks.find((t) => t.id === id);
  if (!task) return {};
  const up = upstream(tasks, id);
  const out: Partial<Record<TaskKind, string>> = {};
  for (const kind of TASK_INPUTS[task.kind]) {
    const found = up.find((t) => t.kind === kind);
    if (found) out[kind] = found.id;
  }
  return out;
}

/** What is wrong with a graph of tasks: unknown or repeated ids, cycles, inputs missing or ambiguous. */
export function graphIssues(tasks: readonly TaskSpec[]): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  const ids = new Set<string>();
  tasks.forEach((t, i) => {
    if (ids.has(t.id)) issues.push({ path: [i, 'id'], message: `'${t.id}' is used twice` });
    ids.add(t.id);
  });
  tasks.forEach((t, i) => {
    t.dependsOn.forEach((dep, j) => {
      if (!ids.has(dep)) issues.push({ path: [i, 'dependsOn', j], message: `no task '${dep}'` });
      if (dep === t.id) issues.push({ path: [i, 'dependsOn', j], message: 'a task cannot depend on itself' });
    });
  });
  if (issues.length) return issues;
  // Kahn's algorithm: what is left once every task without unmet dependencies is taken is a cycle.
  const indegree = new Map(tasks.map((t) => [t.id, t.dependsOn.length]));
  const queue = tasks.filter((t) => t.dependsOn.length === 0).map((t) => t.id);
  let taken = 0;
  while (queue.length) {
    const id = queue.shift()!;
    taken++;
    for (const t of tasks)
      if (t.dependsOn.includes(id)) {
        indegree.set(t.id, indegree.get(t.id)! - 1);
        if (indegree.get(t.id) === 0) queue.push(t.id);
      }
  }
  if (taken < tasks.length) {
    const cyclic = tasks.filter((t) => indegree.get(t.id)! > 0).map((t) => t.id);
    return [{ path: [], message: `the tasks ${cyclic.join(', ')} depend on each other in a cycle` }];
  }
  tasks.forEach((t, i) => {
    const up = upstream(tasks, t.id);
    for (const kind of TASK_INPUTS[t.kind]) {
      const found = up.filter((u) => u.kind === kind);
      if (found.length === 0)
        issues.push({ path: [i, 'dependsOn'], message: `a ${t.kind} task needs a ${kind} task upstream` });
      if (found.length > 1)
        issues.push({
          path: [i, 'dependsOn'],
          message: `a ${t.kind} task takes one ${kind} task's output; ${found.map((f) => f.id).join(' and ')} are both upstream`,
        });
    }
  });
  return issues;
}

/** The metric a promotion compares, and which way is better. */
export function promotionMetric(
  rule: PromotionRule,
  task: z.infer<typeof Task>,
): { metric: string; higherIsBetter: boolean } {
  const metric =
    rule.metric ?? (task === 'regression' ? 'rmse' : task === 'classification' ? 'f1' : 'silhouette');
  return { metric, higherIsBetter: !['rmse', 'mae', 'inertia', 'logLoss'].includes(metric) };
}
