/** Entry point of `meshgate` (run through tsx by bin/meshgate.mjs and `npm start`): runs the command, sets the exit code. */
import { run } from './cli';
import { processIo } from './io';

process.exitCode = await run(process.argv.slice(2), { io: processIo, env: process.env, cwd: process.cwd() });
