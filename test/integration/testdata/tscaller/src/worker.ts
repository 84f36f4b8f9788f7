// One worker for the caller's workflows: node lib/worker.js ADDRESS NAMESPACE TASK_QUEUE.
// It prints "ready" once its workflows are bundled and it polls, and stops on SIGINT or SIGTERM.
import { NativeConnection, Worker } from '@temporalio/worker';

async function main(): Promise<void> {
  const [address, namespace, taskQueue] = process.argv.slice(2);
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    namespace,
    taskQueue,
    workflowsPath: require.resolve('./workflows'),
  });
  await worker.runUntil(async () => {
    console.log('ready');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
  });
  await connection.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
