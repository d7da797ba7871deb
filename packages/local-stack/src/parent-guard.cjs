// Runs a command and ends it when the process that asked for it dies, even by SIGKILL, so a crashed
// test runner or launcher never leaves emulators or services behind.
// usage: node parent-guard.cjs <parentPid> <command> [args...]
'use strict';
const { spawn } = require('node:child_process');

const [parentPid, command, ...args] = process.argv.slice(2);
const child = spawn(command, args, { stdio: 'inherit' });
const send = (signal) => {
  try {
    child.kill(signal);
  } catch {
    /* already gone */
  }
};
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => send(signal));
const watch = setInterval(() => {
  try {
    process.kill(Number(parentPid), 0);
  } catch {
    clearInterval(watch);
    send('SIGTERM');
    setTimeout(() => send('SIGKILL'), 5000).unref();
  }
}, 1000);
child.on('error', (err) => {
  console.error(`parent-guard: cannot start ${command}: ${err.message}`);
  process.exit(127);
});
child.on('exit', (code, signal) => {
  clearInterval(watch);
  process.exit(code ?? (signal ? 128 : 1));
});
