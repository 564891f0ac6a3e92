#!/usr/bin/env node
// A stand-in agent so the quick start runs on a machine with no AI CLI installed.
// Bearing runs it like any custom agent from config.yaml: `node demo-agent.mjs <prompt>`.
// It saves the prompt it received (so you can see the FOCUS/SKIP/PRIOR hand-off),
// carries out lines of the form `CREATE <path>: <text>`, and ends with a summary,
// which Bearing records and hands to the tasks that depend on this one.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const prompt = process.argv[2] ?? '';
const task = process.env.BEARING_TASK_ID ?? 'task';
mkdirSync('received', { recursive: true });
writeFileSync(`received/${task}.txt`, prompt);

const created = [];
for (const match of prompt.matchAll(/^CREATE ([^:\n]+): (.*)$/gm)) {
  const [, path, text] = match;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${text.replaceAll('\\n', '\n')}\n`);
  created.push(path);
}
const prior = prompt.split('\n').filter((line) => line.startsWith('PRIOR:')).length;
console.log(
  `Created ${created.join(', ') || 'nothing'}. I received ${prior} PRIOR line(s) of context from earlier tasks; the full prompt is in received/${task}.txt.`,
);
