// The caller's workflows: the README's example as it is, and the cases the
// test checks beyond it, each returning what it saw for the test to assert.
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { createNexusServiceClient } from '@temporalio/workflow';
import {
  rpaflowService,
  type DeployAPITaskInput,
  type DeployAPITaskResult,
  type ErrorInfo,
  type ErrorType,
  type StartJobInput,
  type StartJobResult,
} from './rpaflow';

export { runProcess } from './readme-example';

/** What an operation ended with. */
export interface Outcome<T> {
  result?: T;
  errorType?: ErrorType | 'Cancelled';
  info?: ErrorInfo;
  /** The RunFailed job's final state. */
  job?: StartJobResult;
  message?: string;
}

const rpaflow = () => createNexusServiceClient({ endpoint: 'rpaflow', service: rpaflowService });

async function outcome<T>(call: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { result: await call() };
  } catch (err) {
    for (let e: unknown = err; e instanceof Error; e = e.cause) {
      if (e instanceof CancelledFailure) return { errorType: 'Cancelled', message: e.message };
      if (e instanceof ApplicationFailure) {
        const out: Outcome<T> = { errorType: e.type as ErrorType, message: e.message };
        if (e.type === 'RunFailed') out.job = e.details?.[0] as StartJobResult;
        else out.info = e.details?.[0] as ErrorInfo;
        return out;
      }
    }
    throw err;
  }
}

export async function apiTask(input: DeployAPITaskInput): Promise<Outcome<DeployAPITaskResult>> {
  return outcome(() => rpaflow().executeOperation('deployApiTask', input, { scheduleToCloseTimeout: '2m' }));
}

export async function job(input: StartJobInput): Promise<Outcome<StartJobResult>> {
  return outcome(() => rpaflow().executeOperation(rpaflowService.operations.startJob, input, { scheduleToCloseTimeout: '2m' }));
}
