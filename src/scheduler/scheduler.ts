// The scheduler: named node-cron jobs from one registry, never overlapping, running only while
// unsealed. Each job only calls a manager method that does the work.
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../logger';

/** One scheduled job. `schedule` is a six-field cron expression (with seconds). */
export interface JobDefinition {
  name: string;
  schedule: string;
  run: () => Promise<unknown> | unknown;
}

/** Runs registered jobs between `start()` (unseal) and `stop()` (seal). */
export class Scheduler {
  private readonly jobs = new Map<string, JobDefinition>();
  private readonly tasks = new Map<string, ScheduledTask>();
  private readonly running = new Map<string, Promise<unknown>>();
  private isStarted = false;

  constructor(private readonly logger: Logger) {}

  /** Adds a job to the registry; names are unique. Jobs registered while running start at once. */
  register(job: JobDefinition): void {
    if (this.jobs.has(job.name)) throw new Error(`scheduler: a job named ${job.name} is already registered`);
    if (!cron.validate(job.schedule)) throw new Error(`scheduler: invalid schedule for ${job.name}`);
    this.jobs.set(job.name, job);
    if (this.isStarted) this.startJob(job);
  }

  get started(): boolean {
    return this.isStarted;
  }

  names(): string[] {
    return [...this.jobs.keys()];
  }

  start(): void {
    if (this.isStarted) return;
    this.isStarted = true;
    for (const job of this.jobs.values()) this.startJob(job);
  }

  /** Stops every job and waits for runs in progress to finish (so none runs after seal). */
  async stop(): Promise<void> {
    this.isStarted = false;
    for (const task of this.tasks.values()) await task.destroy();
    this.tasks.clear();
    await Promise.allSettled([...this.running.values()]);
  }

  /** Runs a job now, unless it is already running (no overlap); returns its result. */
  async runNow(name: string): Promise<unknown> {
    const job = this.jobs.get(name);
    if (!job) throw new Error(`scheduler: no job named ${name}`);
    const inProgress = this.running.get(name);
    if (inProgress) return inProgress;
    const run: Promise<unknown> = (async () => {
      // Yield first: a job that throws synchronously must be registered as running before its
      // `finally` removes it, or it would stay "running" forever and never run again.
      await Promise.resolve();
      try {
        return await job.run();
      } catch (error) {
        this.logger.error({ job: name, err: error instanceof Error ? error.message : 'failed' }, 'scheduled job failed');
        return undefined;
      } finally {
        this.running.delete(name);
      }
    })();
    this.running.set(name, run);
    return run;
  }

  private startJob(job: JobDefinition): void {
    const task = cron.createTask(job.schedule, () => this.runNow(job.name), { name: `leasehold:${job.name}`, noOverlap: true, suppressMissedWarning: true, unref: true });
    void task.start();
    this.tasks.set(job.name, task);
  }
}
