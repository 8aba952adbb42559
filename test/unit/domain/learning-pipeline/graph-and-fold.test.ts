import { describe, expect, it } from 'vitest';
import {
  graphIssues,
  inputsOf,
  LearningPipelineDefinition,
  standardTasks,
  TaskSpec,
} from '../../../../src/domain/learning-pipeline/definition.js';
import {
  evolveLearningPipeline,
  initialLearningPipeline,
  type LearningPipelineEvent,
  type LearningPipelineState,
  nextTask,
} from '../../../../src/domain/learning-pipeline/events.js';
import { nameStates } from '../../../../src/domain/learning-pipeline/states.js';
import { nextDueAt, windowFor } from '../../../../src/learning-pipelines/pipelines.js';

const tasks = (list: Record<string, unknown>[]) => list.map((t) => TaskSpec.parse(t));
const base = {
  modelId: 'm',
  windowMs: 3_600_000,
  dataset: { series: [{ name: 'x' }], stepMs: 1000 },
  training: { algorithm: 'linearRegression', task: 'regression' },
};
const fold = (events: LearningPipelineEvent[]): LearningPipelineState =>
  events.reduce(evolveLearningPipeline, initialLearningPipeline('p'));

describe('a learning pipeline graph', () => {
  it('takes the standard chain by default, each task fed by the one before it', () => {
    const standard = standardTasks();
    expect(standard.map((t) => [t.id, t.dependsOn])).toEqual([
      ['read', []],
      ['features', ['read']],
      ['train', ['features']],
      ['evaluate', ['train']],
      ['register', ['evaluate']],
      ['promote', ['register']],
    ]);
    expect(graphIssues(standard)).toEqual([]);
    expect(inputsOf(standard, 'register')).toEqual({
      features: 'features',
      train: 'train',
      evaluate: 'evaluate',
    });
  });

  it('names cycles, unknown and repeated tasks, and inputs missing or ambiguous', () => {
    expect(
      graphIssues(
        tasks([
          { id: 'a', kind: 'read', dependsOn: ['b'] },
          { id: 'b', kind: 'features', dependsOn: ['a'] },
        ]),
      ),
    ).toEqual([{ path: [], message: 'the tasks a, b depend on each other in a cycle' }]);
    expect(
      graphIssues(
        tasks([
          { id: 'a', kind: 'read', dependsOn: ['zz'] },
          { id: 'a', kind: 'read' },
        ]),
      ),
    ).toEqual([
      { path: [1, 'id'], message: "'a' is used twice" },
      { path: [0, 'dependsOn', 0], message: "no task 'zz'" },
    ]);
    expect(graphIssues(tasks([{ id: 't', kind: 'train' }]))).toEqual([
      { path: [0, 'dependsOn'], message: 'a train task needs a features task upstream' },
    ]);
    const twoReads = tasks([
      { id: 'r1', kind: 'read' },
      { id: 'r2', kind: 'read' },
      { id: 'f', kind: 'features', dependsOn: ['r1', 'r2'] },
    ]);
    expect(graphIssues(twoReads)[0]!.message).toMatch(
      /takes one read task's output; r1 and r2 are both upstream/,
    );
    const parsed = LearningPipelineDefinition.safeParse({ ...base, tasks: [{ id: 't', kind: 'train' }] });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues[0]!.path).toEqual(['tasks', 0, 'dependsOn']);
    const realtime = LearningPipelineDefinition.safeParse({ ...base, mode: 'realtime' });
    expect(realtime.error!.issues[0]!.path).toEqual(['scheduleMs']);
  });

  it('runs the ready task of highest priority first, in the order listed on a tie', () => {
    const definition = LearningPipelineDefinition.parse({
      ...base,
      tasks: [
        { id: 'read', kind: 'read' },
        { id: 'features', kind: 'features', dependsOn: ['read'] },
        { id: 'slow', kind: 'train', dependsOn: ['features'] },
        { id: 'fast', kind: 'train', dependsOn: ['features'], priority: 5 },
      ],
    });
    let s = fold([
      { type: 'learningPipelineDefined', definition, at: 0 },
      { type: 'runRequested', run: 1, trigger: 'manual', window: { from: 0, to: 10 }, at: 1 },
    ]);
    const done = (task: string) => {
      s = evolveLearningPipeline(s, {
        type: 'taskSucceeded',
        run: 1,
        task,
        attempt: 1,
        at: 2,
        ms: 1,
        output: {},
      });
    };
    expect(nextTask(s.current!)!.id).toBe('read');
    done('read');
    done('features');
    expect(nextTask(s.current!)!.id).toBe('fast');
    done('fast');
    expect(nextTask(s.current!)!.id).toBe('slow');
    done('slow');
    expect(nextTask(s.current!)).toBeNull();
    expect(s.current!.status).toBe('succeeded');
    expect(s.lastSucceededTo).toBe(10);
  });
});

describe('the fold of a run', () => {
  const definition = LearningPipelineDefinition.parse({
    ...base,
    tasks: [{ id: 'read', kind: 'read', retries: 1 }],
  });
  const start: LearningPipelineEvent[] = [
    { type: 'learningPipelineDefined', definition, at: 0 },
    { type: 'runRequested', run: 1, trigger: 'manual', window: { from: 0, to: 10 }, at: 1 },
  ];
  const failed = (attempt: number): LearningPipelineEvent => ({
    type: 'taskFailed',
    run: 1,
    task: 'read',
    attempt,
    at: 5,
    error: 'no rows',
  });

  it('retries a failed task while it has retries, then fails the run; a resumption gives it its retries again', () => {
    let s = fold([...start, failed(1)]);
    expect(s.current).toMatchObject({ status: 'running', tasks: [{ status: 'pending', failures: 1 }] });
    s = evolveLearningPipeline(s, failed(2));
    expect(s.current).toMatchObject({
      status: 'failed',
      finishedAt: 5,
      tasks: [{ status: 'failed', failures: 2 }],
    });
    s = evolveLearningPipeline(s, { type: 'runResumed', run: 1, at: 6 });
    expect(s.current).toMatchObject({
      status: 'running',
      tasks: [{ status: 'pending', failures: 0, error: 'no rows' }],
    });
  });

  it('counts every start (a restart after a crash too) and a pause puts the running task back to pending', () => {
    const started = (instance: string): LearningPipelineEvent => ({
      type: 'taskStarted',
      run: 1,
      task: 'read',
      attempt: 1,
      at: 3,
      instance,
    });
    let s = fold([...start, started('a#1'), started('a#2')]);
    expect(s.current!.tasks[0]).toMatchObject({ status: 'running', starts: 2, interrupted: 1 });
    s = evolveLearningPipeline(s, { type: 'runPaused', run: 1, at: 4 });
    expect(s.current).toMatchObject({ status: 'paused', tasks: [{ status: 'pending' }] });
    // A fact about another run changes nothing.
    expect(evolveLearningPipeline(s, { type: 'runResumed', run: 7, at: 5 })).toBe(s);
  });

  it('schedules batch runs every scheduleMs, realtime ones once enough new steps arrived (and backs off after a failure)', () => {
    const batch = fold([
      {
        type: 'learningPipelineDefined',
        definition: LearningPipelineDefinition.parse({ ...base, scheduleMs: 500 }),
        at: 100,
      },
    ]);
    expect(nextDueAt(batch)).toBe(600);
    expect(
      nextDueAt(
        fold([
          { type: 'learningPipelineDefined', definition: LearningPipelineDefinition.parse(base), at: 1 },
        ]),
      ),
    ).toBeNull();
    const rt = LearningPipelineDefinition.parse({
      ...base,
      mode: 'realtime',
      scheduleMs: 100,
      minNewSteps: 5,
    });
    let s = fold([
      { type: 'learningPipelineDefined', definition: rt, at: 0 },
      {
        type: 'runRequested',
        run: 1,
        trigger: 'data',
        window: windowFor(initialLearningPipeline('p'), rt, 10_000),
        at: 10_000,
      },
    ]);
    expect(s.current!.window).toEqual({ from: 10_000 - 3_600_000, to: 10_000 });
    s = evolveLearningPipeline(s, {
      type: 'taskSucceeded',
      run: 1,
      task: 'read',
      attempt: 1,
      at: 10_001,
      ms: 1,
      output: {},
    });
    for (const task of ['features', 'train', 'evaluate', 'register', 'promote'])
      s = evolveLearningPipeline(s, {
        type: 'taskSucceeded',
        run: 1,
        task,
        attempt: 1,
        at: 10_002,
        ms: 1,
        output: {},
      });
    expect(s.lastSucceededTo).toBe(10_000);
    expect(nextDueAt(s)).toBe(15_000);
    expect(windowFor(s, rt, 16_000)).toEqual({ from: 10_000, to: 16_000 });
    s = evolveLearningPipeline(s, {
      type: 'runRequested',
      run: 2,
      trigger: 'data',
      window: { from: 10_000, to: 16_000 },
      at: 16_000,
    });
    s = evolveLearningPipeline(s, {
      type: 'taskFailed',
      run: 2,
      task: 'read',
      attempt: 3,
      at: 16_001,
      error: 'x',
    });
    s = evolveLearningPipeline(s, {
      type: 'taskFailed',
      run: 2,
      task: 'read',
      attempt: 3,
      at: 16_001,
      error: 'x',
    });
    s = evolveLearningPipeline(s, {
      type: 'taskFailed',
      run: 2,
      task: 'read',
      attempt: 3,
      at: 16_001,
      error: 'x',
    });
    expect(s.current!.status).toBe('failed');
    expect(nextDueAt(s)).toBe(21_000);
  });
});

describe('operational state names', () => {
  it('names each cluster by the features whose centre stands half a deviation or more from the whole', () => {
    const rows = [
      [10, 100],
      [11, 101],
      [90, 400],
      [91, 401],
      [50, 250],
      [50, 250],
    ];
    const states = nameStates(['cpu{host=a}', 'latency{host=a}'], rows, [0, 0, 1, 1, 2, 2]);
    expect(states.map((s) => [s.cluster, s.name, s.size])).toEqual([
      [0, 'low cpu, low latency', 2],
      [1, 'high cpu, high latency', 2],
      [2, 'typical', 2],
    ]);
    expect(states[1]!.centre).toEqual({ 'cpu{host=a}': 90.5, 'latency{host=a}': 400.5 });
    // Names that would be the same are told apart.
    expect(nameStates(['x'], [[1], [1], [9]], [0, 1, 2]).map((s) => s.name)).toEqual([
      'low x',
      'low x (2)',
      'high x',
    ]);
  });
});
