#!/usr/bin/env node
/**
 * The benchmark suite's one entry point: `npm run bench -- <scenario|all|list> [options]`.
 *
 * Each scenario runs the servers under test (bench/targets/: the gateway and its baselines) and
 * the load generators as separate processes through the scenario's orchestrator (fanout.mjs,
 * kafka-fanout.mjs), once per repetition, then writes into bench/results/suite-<time>/:
 *   <scenario>.json   every orchestrator result plus the summary (medians over repetitions)
 *   <scenario>.svg    a chart of the scenario's main figure
 *   summary.md        the tables, ratios to every baseline, and the goals reached or missed
 * `--docs` also copies the charts to docs/benchmarks/ (the figures docs/benchmarks.md shows).
 *
 * Profiles: --smoke (seconds per scenario; what `npm test` runs, nothing about speed is checked),
 * --quick (a few minutes: WebSocket only, 10 000 subscribers, one repetition), --full (SSE and
 * WebSocket, 100 B and 1 KB payloads, 15 000 subscribers, three repetitions).
 *
 * What each scenario measures and the latest figures: docs/benchmarks.md.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineFacts } from './lib/procfs.mjs';
import { barChart } from './lib/svg-chart.mjs';
import { options } from './lib/common.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH, '..');
const PROFILES = {
  smoke: { flag: '--smoke', subscribers: 200, idleSubscribers: 200, transports: ['ws'], payloads: [100], repeat: 1, rates: [100] },
  quick: { flag: '--quick', subscribers: 10_000, idleSubscribers: 10_000, transports: ['ws'], payloads: [100], repeat: 1, rates: [10, 1000], duration: 5 },
  full: { flag: '--quick', subscribers: 15_000, idleSubscribers: 15_000, transports: ['ws', 'sse'], payloads: [100, 1000], repeat: 3, rates: [10, 100, 1000], duration: 10 },
};

/**
 * Scenarios: every module in bench/scenarios/ exports `id` and `scenario` = {title, runs(p),
 * summarize(results, p)}. `p` is the profile above plus its name (`p.profile`: smoke, quick or
 * full). `runs(p)` lists orchestrator invocations ({key, script, args});
 * `summarize` turns their results (one array per key, one entry per repetition) into
 * {markdown, chart, goals}.
 */
const SCENARIOS = {};
for (const f of readdirSync(join(BENCH, 'scenarios')).filter((x) => x.endsWith('.mjs')).sort()) {
  const m = await import(`./scenarios/${f}`);
  SCENARIOS[m.id] = m.scenario;
}
// s1, s2, ... in number order, then the others (kafka) by name.
const ORDER = Object.keys(SCENARIOS).sort((a, b) => {
  const n = (x) => (/^s\d+$/.test(x) ? Number(x.slice(1)) : 1000);
  return n(a) - n(b) || a.localeCompare(b);
});
/** Scenarios of perf-notes 5.2 that the suite does not run yet, listed by `list`. */
const NOT_YET = {};
for (const id of Object.keys(NOT_YET)) if (SCENARIOS[id]) delete NOT_YET[id];

function renderChart(c, subtitle) {
  const names = Object.keys(c.series);
  return barChart({ title: c.title, subtitle, unit: c.unit, categories: c.categories, series: names.map((n) => ({ name: n, values: c.categories.map((cat) => c.series[n][cat] ?? NaN) })) });
}

// ------------------------------------------------------------------------------------------------

function parseArgs(argv) {
  const o = { scenario: undefined, profile: 'quick', repeat: undefined, targets: undefined, docs: false, outDir: undefined, from: undefined };
  for (const { name: a, value: val } of options(argv)) {
    if (a === '--smoke' || a === '--quick' || a === '--full') o.profile = a.slice(2);
    else if (a === '--repeat') o.repeat = Number(val());
    else if (a === '--targets') o.targets = val().split(',');
    else if (a === '--docs') o.docs = true;
    else if (a === '--out-dir') o.outDir = val();
    else if (a === '--from') o.from = val();
    else if (a === '--help' || a === '-h') o.scenario = 'help';
    else if (!a.startsWith('-') && !o.scenario) o.scenario = a;
    else throw new Error(`unknown option ${a} (npm run bench -- --help)`);
  }
  return o;
}

const USAGE = `npm run bench -- <scenario|all|list> [--smoke|--quick|--full] [--repeat N] [--targets gateway,node,nchan,centrifuge] [--docs] [--out-dir DIR] [--from DIR]
--from DIR: summarize the orchestrator results of an earlier run in DIR again instead of running (same scenario and profile).
scenarios: ${ORDER.join(', ')} ("all" runs every one)
Needs a built gateway (npm run build). Nchan and Centrifuge are installed from Debian packages on first use (root).
`;

function runScript(script, args, log) {
  return new Promise((resolveRun, reject) => {
    log(`$ node ${relative(ROOT, script)} ${args.join(' ')}`);
    const proc = spawn(process.execPath, [script, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    proc.once('exit', (code, sig) => (code === 0 ? resolveRun() : reject(new Error(`${relative(ROOT, script)} exited with ${code ?? sig}`))));
  });
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (!o.scenario || o.scenario === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  if (o.scenario === 'list') {
    for (const k of ORDER) process.stdout.write(`${k}  ${SCENARIOS[k].title}\n`);
    for (const [k, why] of Object.entries(NOT_YET)) process.stdout.write(`${k}  not in the suite yet: ${why}\n`);
    return;
  }
  const names = o.scenario === 'all' ? ORDER : o.scenario.split(',');
  for (const n of names) if (!SCENARIOS[n]) throw new Error(`unknown scenario ${n}; ${NOT_YET[n] ? `not in the suite yet (${NOT_YET[n]})` : 'npm run bench -- list'}`);
  const p = { ...PROFILES[o.profile], profile: o.profile };
  if (o.repeat) p.repeat = o.repeat;
  if (o.targets) p.targets = o.targets;
  const startedAt = new Date().toISOString();
  const dir = resolve(ROOT, o.from ?? o.outDir ?? `bench/results/suite-${startedAt.replace(/[:.]/g, '-')}`);
  mkdirSync(dir, { recursive: true });
  const log = (m) => process.stderr.write(`[bench] ${m}\n`);
  const facts = machineFacts();
  const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`;
  const md = [`## Benchmark suite, ${startedAt}`, '', `Command: \`${command}\` (profile ${o.profile}, ${p.repeat} repetition(s); medians, spread in parentheses)`, '',
    `Machine: ${facts.cores} × ${facts.cpuModel}, ulimit -n ${facts.openFilesLimit}, Node ${facts.node}, ${facts.kernel}.`, ''];
  const allGoals = [];
  const failures = [];
  for (const name of names) {
    const sc = SCENARIOS[name];
    log(`${name}: ${sc.title}`);
    const results = {};
    let failed = false;
    for (const inv of sc.runs(p)) {
      results[inv.key] = [];
      for (let r = 0; r < p.repeat; r++) {
        const out = join(dir, `${inv.key}-${r + 1}.json`);
        try {
          if (!o.from) await runScript(inv.script, [...inv.args, '--out', out], log);
          results[inv.key].push(JSON.parse(readFileSync(out, 'utf8')));
        } catch (e) {
          // One failed orchestrator run must not take the other scenarios' results with it.
          failures.push(`${inv.key} #${r + 1}: ${e.message}`);
          failed = true;
          log(`${inv.key} #${r + 1} failed: ${e.message}`);
        }
      }
      if (results[inv.key].length === 0) delete results[inv.key];
    }
    if (Object.keys(results).length === 0) {
      md.push(`### ${sc.title}`, '', 'Not measured: every run failed (below).', '');
      continue;
    }
    const summary = sc.summarize(results, p);
    if (failed) summary.markdown += '\n\nSome runs of this scenario failed (below); the figures are from the others.';
    const svg = renderChart(summary.chart, `${o.profile} profile, ${startedAt.slice(0, 10)}, ${facts.cores} cores`);
    writeFileSync(join(dir, `${name}.svg`), svg);
    writeFileSync(join(dir, `${name}.json`), JSON.stringify({ scenario: name, title: sc.title, command, profile: o.profile, repeat: p.repeat, machine: facts, summary, results }, null, 2) + '\n');
    if (o.docs) {
      mkdirSync(join(ROOT, 'docs/benchmarks'), { recursive: true });
      copyFileSync(join(dir, `${name}.svg`), join(ROOT, 'docs/benchmarks', `${name}.svg`));
    }
    md.push(`### ${sc.title}`, '', summary.markdown, '', `![${name}](benchmarks/${name}.svg)`, '');
    allGoals.push(...summary.goals);
  }
  if (allGoals.length) {
    md.push('### Goals', '', '| goal | result | |', '| --- | --- | --- |');
    for (const g of allGoals) md.push(`| ${g.goal} | ${g.value} | ${g.reached ? '**reached**' : '**missed**'} |`);
    md.push('');
  }
  if (failures.length) md.push('### Failed runs', '', ...failures.map((f) => `- ${f}`), '');
  writeFileSync(join(dir, 'summary.md'), md.join('\n'));
  process.stdout.write(md.join('\n') + `\nResults: ${relative(process.cwd(), dir)}/\n`);
  if (failures.length) process.exitCode = 1;
}

main().catch((e) => {
  process.stderr.write(`[bench] failed: ${e?.stack ?? e}\n`);
  process.exit(1);
});
