// The scheduler with the real node-cron: a registry of uniquely named jobs with valid schedules,
// no overlapping runs, late registration, stop() draining in-flight runs, and failures that are
// logged without stopping later runs.
import pino from 'pino';
import { Scheduler } from '../../src/scheduler/scheduler';

/** A real pino logger whose lines are kept for the test to read. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

/** A promise the test resolves by hand. */
function gate() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const startedAt = Date.now();
  while (!condition() && Date.now() - startedAt < timeoutMs) await sleep(20);
}

const EVERY_SECOND = '* * * * * *';
/** Midnight on January 1st: never fires during a test. */
const RARELY = '0 0 0 1 1 *';

const schedulers: Scheduler[] = [];
function newScheduler() {
  const { logger, lines } = capturingLogger();
  const scheduler = new Scheduler(logger);
  schedulers.push(scheduler);
  return { scheduler, lines };
}

afterEach(async () => {
  await Promise.all(schedulers.splice(0).map((s) => s.stop()));
});

describe('the job registry', () => {
  it('refuses a duplicate job name and keeps the first job', async () => {
    const { scheduler } = newScheduler();
    let firstRuns = 0;
    scheduler.register({ name: 'tidy', schedule: RARELY, run: () => ++firstRuns });
    expect(() => scheduler.register({ name: 'tidy', schedule: EVERY_SECOND, run: () => undefined })).toThrow(/already registered/);
    expect(scheduler.names()).toEqual(['tidy']);
    await scheduler.runNow('tidy');
    expect(firstRuns).toBe(1);
  });

  it('refuses an invalid schedule and does not register the job', async () => {
    const { scheduler } = newScheduler();
    for (const schedule of ['not a schedule', '61 * * * * *', '* * * * * * * *', '']) {
      expect(() => scheduler.register({ name: 'bad', schedule, run: () => undefined })).toThrow(/invalid schedule/);
    }
    expect(scheduler.names()).toEqual([]);
    await expect(scheduler.runNow('bad')).rejects.toThrow(/no job named bad/);
    // The name is still free for a valid definition.
    scheduler.register({ name: 'bad', schedule: RARELY, run: () => undefined });
    expect(scheduler.names()).toEqual(['bad']);
  });
});

describe('runNow', () => {
  it('joins the run in flight instead of starting an overlapping one', async () => {
    const { scheduler } = newScheduler();
    let current = 0;
    let maxConcurrent = 0;
    let starts = 0;
    let release = gate();
    scheduler.register({
      name: 'slow',
      schedule: RARELY,
      run: async () => {
        starts++;
        current++;
        maxConcurrent = Math.max(maxConcurrent, current);
        await release.promise;
        current--;
        return { run: starts };
      },
    });

    const first = scheduler.runNow('slow');
    const second = scheduler.runNow('slow');
    const third = scheduler.runNow('slow');
    await sleep(20);
    expect(starts).toBe(1);
    expect(current).toBe(1);
    release.open();
    const [a, b, c] = await Promise.all([first, second, third]);
    // One execution, one result shared by every caller.
    expect(a).toEqual({ run: 1 });
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(maxConcurrent).toBe(1);

    // Once it has finished, the next runNow is a new execution.
    release = gate();
    const next = scheduler.runNow('slow');
    release.open();
    expect(await next).toEqual({ run: 2 });
    expect(maxConcurrent).toBe(1);
  });
});

describe('running on schedule', () => {
  it('starts a job registered while the scheduler is started', async () => {
    const { scheduler } = newScheduler();
    scheduler.register({ name: 'base', schedule: RARELY, run: () => undefined });
    scheduler.start();
    expect(scheduler.started).toBe(true);
    let runs = 0;
    scheduler.register({ name: 'late', schedule: EVERY_SECOND, run: () => void runs++ });
    await waitFor(() => runs > 0, 2500);
    expect(runs).toBeGreaterThan(0);
  });

  it('starts a job registered after start() on a scheduler that had no jobs yet', async () => {
    const { scheduler } = newScheduler();
    scheduler.start();
    let runs = 0;
    scheduler.register({ name: 'late', schedule: EVERY_SECOND, run: () => void runs++ });
    await waitFor(() => runs > 0, 2500);
    expect(runs).toBeGreaterThan(0);
  });

  it('stop() waits for the run in flight and nothing runs after it', async () => {
    const { scheduler } = newScheduler();
    let starts = 0;
    let finished = 0;
    const release = gate();
    scheduler.register({
      name: 'sweep',
      schedule: EVERY_SECOND,
      run: async () => {
        starts++;
        await release.promise;
        finished++;
      },
    });
    scheduler.start();
    await waitFor(() => starts > 0, 2500);
    expect(starts).toBe(1);

    let stopped = false;
    const stopping = scheduler.stop().then(() => void (stopped = true));
    await sleep(50);
    expect(stopped).toBe(false);
    release.open();
    await stopping;
    expect(stopped).toBe(true);
    expect(finished).toBe(1);
    expect(scheduler.started).toBe(false);

    await sleep(1500);
    expect(starts).toBe(1);
  });
});

describe('failing jobs', () => {
  it('a rejected run is logged and the job keeps running on schedule', async () => {
    const { scheduler, lines } = newScheduler();
    let runs = 0;
    scheduler.register({
      name: 'flaky',
      schedule: EVERY_SECOND,
      run: async () => {
        runs++;
        throw new Error(`backend down (run ${runs})`);
      },
    });
    scheduler.start();
    await waitFor(() => runs >= 2, 3000);
    expect(runs).toBeGreaterThanOrEqual(2);
    const failures = lines.filter((l) => l.msg === 'scheduled job failed');
    expect(failures.length).toBeGreaterThanOrEqual(1);
    expect(failures[0]).toMatchObject({ level: 50, job: 'flaky', err: 'backend down (run 1)' });
  });

  it('a job that throws synchronously is logged and runs again on the next runNow', async () => {
    const { scheduler, lines } = newScheduler();
    let runs = 0;
    scheduler.register({
      name: 'sync-tidy',
      schedule: RARELY,
      run: () => {
        runs++;
        throw new Error('database is locked');
      },
    });
    expect(await scheduler.runNow('sync-tidy')).toBeUndefined();
    expect(runs).toBe(1);
    expect(lines.filter((l) => l.msg === 'scheduled job failed')).toEqual([expect.objectContaining({ job: 'sync-tidy', err: 'database is locked' })]);
    await scheduler.runNow('sync-tidy');
    expect(runs).toBe(2);
    expect(lines.filter((l) => l.msg === 'scheduled job failed')).toHaveLength(2);
  });
});
