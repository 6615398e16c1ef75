/**
 * CI results: check runs, check suites, Actions workflow runs and jobs with their logs. Each
 * `setCheckFailure` is one workflow run with one job whose id is also the check run id.
 */
import { notify, withBase } from '../events.js';
import { branches, git, resolveCommit } from '../git-repo.js';
import { intParam, notFound, paginate, requireRepo, type PendingEvent, type Router } from '../http.js';
import { checkRunJson, nodeId, pullRefs, repoJson, userJson } from '../shapes.js';
import type { GitHubStore, RepoState } from '../store.js';
import type { CheckRun } from '../types.js';

type Json = Record<string, any>;

const WORKFLOW_ID = 161335;

/** The `head_commit` of suites and workflow runs, read from git when the run is recorded. */
const headCommits = new WeakMap<CheckRun, Json>();

async function readHeadCommit(state: RepoState, sha: string): Promise<Json> {
  const out = await git(state.repo.path, ['show', '-s', '--format=%T%x1f%an%x1f%ae%x1f%cn%x1f%ce%x1f%cI%x1f%B', sha]);
  const [tree, an, ae, cn, ce, date, message] = out.split('\x1f');
  return { id: sha, tree_id: tree, message: message.trim(), timestamp: date, author: { name: an, email: ae }, committer: { name: cn, email: ce } };
}

export function checkSuiteJson(store: GitHubStore, state: RepoState, run: CheckRun): Json {
  return {
    head_commit: headCommits.get(run) ?? null,
    id: run.checkSuiteId,
    node_id: nodeId('CS', run.checkSuiteId),
    head_branch: run.headBranch,
    head_sha: run.headSha,
    status: 'completed',
    conclusion: run.conclusion,
    url: `${store.url}/repos/${state.repo.fullName}/check-suites/${run.checkSuiteId}`,
    before: null,
    after: run.headSha,
    pull_requests: pullRefs(store, state, run.headSha),
    app: { id: 15368, slug: 'github-actions', name: 'GitHub Actions' },
    created_at: run.completedAt,
    updated_at: run.completedAt,
    latest_check_runs_count: 1,
    check_runs_url: `${store.url}/repos/${state.repo.fullName}/check-suites/${run.checkSuiteId}/check-runs`,
  };
}

export function workflowRunJson(store: GitHubStore, state: RepoState, run: CheckRun): Json {
  const api = `${store.url}/repos/${state.repo.fullName}/actions/runs/${run.workflowRunId}`;
  return {
    id: run.workflowRunId,
    name: 'CI',
    node_id: nodeId('WFR', run.workflowRunId),
    head_branch: run.headBranch,
    head_sha: run.headSha,
    path: '.github/workflows/ci.yml',
    display_title: run.name,
    run_number: run.workflowRunId - 700_000,
    run_attempt: 1,
    event: 'pull_request',
    status: 'completed',
    conclusion: run.conclusion,
    workflow_id: WORKFLOW_ID,
    check_suite_id: run.checkSuiteId,
    check_suite_node_id: nodeId('CS', run.checkSuiteId),
    url: api,
    html_url: `${state.repo.htmlUrl}/actions/runs/${run.workflowRunId}`,
    jobs_url: `${api}/jobs`,
    logs_url: `${api}/logs`,
    check_suite_url: `${store.url}/repos/${state.repo.fullName}/check-suites/${run.checkSuiteId}`,
    workflow_url: `${store.url}/repos/${state.repo.fullName}/actions/workflows/${WORKFLOW_ID}`,
    pull_requests: pullRefs(store, state, run.headSha),
    created_at: run.completedAt,
    updated_at: run.completedAt,
    run_started_at: run.completedAt,
    actor: userJson(store, state.repo.owner),
    triggering_actor: userJson(store, state.repo.owner),
    artifacts_url: `${api}/artifacts`,
    cancel_url: `${api}/cancel`,
    rerun_url: `${api}/rerun`,
    previous_attempt_url: null,
    head_commit: headCommits.get(run) ?? null,
    repository: repoJson(store, state),
    head_repository: repoJson(store, state),
  };
}

export function jobJson(store: GitHubStore, state: RepoState, run: CheckRun): Json {
  const api = `${store.url}/repos/${state.repo.fullName}`;
  return {
    id: run.id,
    run_id: run.workflowRunId,
    run_url: `${api}/actions/runs/${run.workflowRunId}`,
    node_id: nodeId('CR', run.id),
    head_sha: run.headSha,
    head_branch: run.headBranch,
    url: `${api}/actions/jobs/${run.id}`,
    html_url: run.htmlUrl,
    status: 'completed',
    conclusion: run.conclusion,
    created_at: run.completedAt,
    started_at: run.completedAt,
    completed_at: run.completedAt,
    name: run.name,
    workflow_name: 'CI',
    steps: [
      { name: 'Set up job', status: 'completed', conclusion: 'success', number: 1 },
      { name: run.name, status: 'completed', conclusion: run.conclusion, number: 2 },
    ],
    check_run_url: `${api}/check-runs/${run.id}`,
    labels: ['ubuntu-latest'],
    runner_name: 'fake-runner',
  };
}

/** Records a failed run on a sha, branch or PR number; returns it with the webhooks to send. */
export async function recordCheckFailure(store: GitHubStore, state: RepoState, shaOrPr: string | number, opts: { name: string; log: string }): Promise<{ run: CheckRun; events: PendingEvent[] }> {
  const pull = typeof shaOrPr === 'number' ? state.pulls.get(shaOrPr) : undefined;
  if (typeof shaOrPr === 'number' && !pull) throw new Error(`fake GitHub: no pull request #${shaOrPr} in ${state.repo.fullName}`);
  const headSha = pull ? pull.headSha : await resolveCommit(state.repo.path, String(shaOrPr));
  if (!headSha) throw new Error(`fake GitHub: ${shaOrPr} names no commit in ${state.repo.fullName}`);
  const tips = await branches(state.repo.path);
  const headBranch = pull?.head ?? (tips.has(String(shaOrPr)) ? String(shaOrPr) : ([...tips].find(([, sha]) => sha === headSha)?.[0] ?? null));
  const id = store.nextId('checkRun');
  const workflowRunId = store.nextId('workflowRun');
  const run: CheckRun = {
    id,
    name: opts.name,
    headSha,
    headBranch,
    status: 'completed',
    conclusion: 'failure',
    checkSuiteId: store.nextId('checkSuite'),
    workflowRunId,
    log: opts.log,
    htmlUrl: `${state.repo.htmlUrl}/actions/runs/${workflowRunId}/job/${id}`,
    completedAt: store.now(),
  };
  headCommits.set(run, await readHeadCommit(state, headSha));
  state.checkRuns.push(run);
  const sender = state.repo.owner;
  const events: PendingEvent[] = [
    { event: 'check_run', payload: withBase(store, state, sender, { action: 'completed', check_run: { ...checkRunJson(store, state, run), check_suite: checkSuiteJson(store, state, run) } }) },
    { event: 'check_suite', payload: withBase(store, state, sender, { action: 'completed', check_suite: checkSuiteJson(store, state, run) }) },
    {
      event: 'workflow_run',
      payload: withBase(store, state, sender, {
        action: 'completed',
        workflow_run: workflowRunJson(store, state, run),
        workflow: {
          id: WORKFLOW_ID,
          node_id: nodeId('W', WORKFLOW_ID),
          name: 'CI',
          path: '.github/workflows/ci.yml',
          state: 'active',
          created_at: state.createdAt,
          updated_at: state.createdAt,
          url: `${store.url}/repos/${state.repo.fullName}/actions/workflows/${WORKFLOW_ID}`,
          html_url: `${state.repo.htmlUrl}/actions/workflows/ci.yml`,
          badge_url: `${state.repo.htmlUrl}/workflows/CI/badge.svg`,
        },
      }),
    },
  ];
  for (const p of state.pulls.values()) if (p.headSha === headSha && p.state === 'open') notify(store, state, p, null, [[p.author, 'ci_activity']]);
  return { run, events };
}

export function registerCheckRoutes(router: Router, store: GitHubStore): void {
  const runsFor = async (state: RepoState, ref: string): Promise<CheckRun[]> => {
    const sha = await resolveCommit(state.repo.path, ref);
    if (!sha) throw notFound();
    return state.checkRuns.filter((r) => r.headSha === sha);
  };

  router.add('GET', '/repos/:owner/:repo/commits/*ref/check-runs', async (ctx) => {
    const state = requireRepo(store, ctx);
    const name = ctx.query.get('check_name');
    const runs = (await runsFor(state, ctx.params.ref)).filter((r) => !name || r.name === name);
    return { json: { total_count: runs.length, check_runs: runs.map((r) => checkRunJson(store, state, r)) } };
  });

  router.add('GET', '/repos/:owner/:repo/commits/*ref/check-suites', async (ctx) => {
    const state = requireRepo(store, ctx);
    const runs = await runsFor(state, ctx.params.ref);
    return { json: { total_count: runs.length, check_suites: runs.map((r) => checkSuiteJson(store, state, r)) } };
  });

  router.add('GET', '/repos/:owner/:repo/commits/*ref/status', async (ctx) => {
    const state = requireRepo(store, ctx);
    const sha = await resolveCommit(state.repo.path, ctx.params.ref);
    if (!sha) throw notFound();
    return { json: { state: 'pending', statuses: [], sha, total_count: 0, repository: { id: state.repo.id, full_name: state.repo.fullName } } };
  });

  const requireRun = (state: RepoState, pick: (r: CheckRun) => number, id: number): CheckRun => {
    const run = state.checkRuns.find((r) => pick(r) === id);
    if (!run) throw notFound();
    return run;
  };

  router.add('GET', '/repos/:owner/:repo/check-runs/:check_run_id', (ctx) => {
    const state = requireRepo(store, ctx);
    return {
      json: checkRunJson(
        store,
        state,
        requireRun(state, (r) => r.id, intParam(ctx, 'check_run_id')),
      ),
    };
  });

  router.add('GET', '/repos/:owner/:repo/actions/jobs/:job_id', (ctx) => {
    const state = requireRepo(store, ctx);
    return {
      json: jobJson(
        store,
        state,
        requireRun(state, (r) => r.id, intParam(ctx, 'job_id')),
      ),
    };
  });

  // GitHub answers with a redirect to a short-lived blob URL; fetch (and octokit) follow it.
  router.add('GET', '/repos/:owner/:repo/actions/jobs/:job_id/logs', (ctx) => {
    const state = requireRepo(store, ctx);
    const run = requireRun(state, (r) => r.id, intParam(ctx, 'job_id'));
    return { status: 302, headers: { location: `${store.url}/_fake/job-logs/${state.repo.fullName}/${run.id}` } };
  });

  router.add('GET', '/_fake/job-logs/:owner/:repo/:job_id', (ctx) => {
    const state = store.repoState(ctx.params.owner, ctx.params.repo);
    if (!state) throw notFound();
    return { text: requireRun(state, (r) => r.id, intParam(ctx, 'job_id')).log, contentType: 'text/plain; charset=utf-8' };
  });

  router.add('GET', '/repos/:owner/:repo/actions/runs', (ctx) => {
    const state = requireRepo(store, ctx);
    const sha = ctx.query.get('head_sha');
    const branch = ctx.query.get('branch');
    const runs = state.checkRuns.filter((r) => (!sha || r.headSha === sha) && (!branch || r.headBranch === branch)).reverse();
    const page = paginate(store, ctx, runs, (r) => workflowRunJson(store, state, r));
    return { ...page, json: { total_count: runs.length, workflow_runs: page.json } };
  });

  router.add('GET', '/repos/:owner/:repo/actions/runs/:run_id', (ctx) => {
    const state = requireRepo(store, ctx);
    return {
      json: workflowRunJson(
        store,
        state,
        requireRun(state, (r) => r.workflowRunId, intParam(ctx, 'run_id')),
      ),
    };
  });

  router.add('GET', '/repos/:owner/:repo/actions/runs/:run_id/jobs', (ctx) => {
    const state = requireRepo(store, ctx);
    const run = requireRun(state, (r) => r.workflowRunId, intParam(ctx, 'run_id'));
    return { json: { total_count: 1, jobs: [jobJson(store, state, run)] } };
  });
}
