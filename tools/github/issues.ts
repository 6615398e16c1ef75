import { z } from 'zod';
import type { PantheonTool } from '../types.js';
import { onGitHub } from './errors.js';
import { hasMarker, withMarker } from './marker.js';
import { issueRef, parseRepo, shortRef, type RepoRef } from './repo-ref.js';
import type { GitHubSession } from './session.js';
import { oneLine, untrusted, UNTRUSTED_NOTE } from './untrusted.js';

const repoArg = z.string().min(3).describe('The repository, as owner/repo');
const numberArg = z.number().int().positive().describe('The issue (or pull request) number');

const createIssueSchema = z.object({
  repo: repoArg,
  title: z.string().min(3).max(256),
  body: z.string().min(1).describe('What and why: context, the problem, constraints (markdown)'),
  acceptance_criteria: z.array(z.string().min(1)).min(1).describe('Checks that tell when the work is done; become a checklist'),
  labels: z.array(z.string().min(1)).optional(),
  assignee: z.string().optional().describe('A persona id (e.g. apollo), a human id from the team, or a GitHub login'),
});

/** The issue body: the text, an acceptance criteria checklist, and the call's hidden marker. */
export function issueBody(body: string, criteria: readonly string[], callId: string): string {
  const checklist = criteria.map((c) => `- [ ] ${c.replace(/^\s*(?:[-*]\s*)?(?:\[[ xX]\]\s*)?/, '').trim()}`).join('\n');
  return withMarker(`${body.trim()}\n\n## Acceptance criteria\n\n${checklist}`, callId);
}

/** The PM's issue tools, plus reading and commenting for everyone. */
export function issueTools(s: GitHubSession): PantheonTool[] {
  return [createIssue(s), getIssue(s), editIssue(s), labelIssue(s), assignIssue(s), commentOnIssue(s), searchIssues(s)];
}

function createIssue(s: GitHubSession): PantheonTool<typeof createIssueSchema> {
  return {
    name: 'create_issue',
    description:
      'Open a GitHub issue with an acceptance criteria checklist, optionally labelled and assigned (to a persona such as apollo, or a human). ' +
      'It becomes a work item tied to this conversation, so progress on it is reported here.',
    risk: 'write',
    schema: createIssueSchema,
    async run(args, call) {
      const r = parseRepo(args.repo);
      const login = await s.login();
      const assignee = args.assignee ? s.deps.team.resolve(args.assignee) : undefined;
      // A replayed call finds the issue it already opened instead of opening another.
      const existing = await onGitHub(
        'list issues',
        async () => (await s.client.rest.issues.listForRepo({ ...r, creator: login, state: 'all', sort: 'created', direction: 'desc', per_page: 100 })).data,
      );
      let issue = existing.find((i) => !i.pull_request && hasMarker(i.body, call.id));
      const created = !issue;
      issue ??= await onGitHub(
        `create an issue in ${r.owner}/${r.repo}`,
        async () =>
          (
            await s.client.rest.issues.create({
              ...r,
              title: args.title,
              body: issueBody(args.body, args.acceptance_criteria, call.id),
              ...(args.labels?.length ? { labels: args.labels } : {}),
              ...(assignee ? { assignees: [assignee.login] } : {}),
            })
          ).data,
      );
      const item = await s.deps.ledger?.ensure({
        kind: 'issue',
        title: args.title,
        externalRef: issueRef(r, issue.number),
        originThread: call.threadId,
        originPlatform: call.platform,
        owner: assignee?.persona?.id ?? null,
        requestedBy: call.requestedBy ?? null,
        actor: call.persona,
      });
      const who = assignee ? `, assigned to ${s.deps.team.describeLogin(assignee.login)}` : '';
      const work = item ? ` Work item ${item.item.id} tracks it; progress is reported in this conversation.` : '';
      return `${created ? 'Opened' : 'Already opened (this call ran before)'} issue ${shortRef(r, issue.number)}${who}: ${issue.html_url}.${work}`;
    },
  };
}

const getIssueSchema = z.object({ repo: repoArg, number: numberArg, comments: z.number().int().min(0).max(100).optional().describe('How many of the latest comments to include (default 20)') });

function getIssue(s: GitHubSession): PantheonTool<typeof getIssueSchema> {
  return {
    name: 'get_issue',
    description: `Read an issue (or a pull request's conversation): title, state, labels, assignees, body and the latest comments. ${UNTRUSTED_NOTE}`,
    risk: 'read',
    schema: getIssueSchema,
    async run({ repo, number, comments }) {
      const r = parseRepo(repo);
      const issue = (await onGitHub(`read ${shortRef(r, number)}`, () => s.client.rest.issues.get({ ...r, issue_number: number }))).data;
      const all = await onGitHub('list comments', () => s.client.paginate(s.client.rest.issues.listComments, { ...r, issue_number: number, per_page: 100 }));
      const latest = all.slice(-(comments ?? 20));
      const head = [
        `${issue.pull_request ? 'Pull request' : 'Issue'} ${shortRef(r, number)} [${issue.state}] by ${s.deps.team.describeLogin(issue.user?.login)}: ${issue.html_url}`,
        `Labels: ${issue.labels.map((l) => (typeof l === 'string' ? l : l.name)).join(', ') || 'none'}. Assignees: ${(issue.assignees ?? []).map((a) => s.deps.team.describeLogin(a.login)).join(', ') || 'none'}.`,
        untrusted(`title of ${shortRef(r, number)}`, issue.title),
        untrusted(`body of ${shortRef(r, number)}`, issue.body),
        `${all.length} comment(s)${all.length > latest.length ? `, the latest ${latest.length} shown` : ''}:`,
      ];
      for (const c of latest) head.push(untrusted(`comment ${c.id} by ${c.user?.login ?? 'someone'} at ${c.created_at}`, c.body));
      return head.join('\n');
    },
  };
}

const editIssueSchema = z.object({
  repo: repoArg,
  number: numberArg,
  title: z.string().min(3).max(256).optional(),
  body: z.string().min(1).optional().describe('Replaces the whole body'),
  state: z.enum(['open', 'closed']).optional(),
});

function editIssue(s: GitHubSession): PantheonTool<typeof editIssueSchema> {
  return {
    name: 'edit_issue',
    description: "Change an issue's title, body, or state (open/closed).",
    risk: 'write',
    schema: editIssueSchema,
    async run({ repo, number, title, body, state }) {
      const r = parseRepo(repo);
      if (title === undefined && body === undefined && state === undefined) return 'Nothing to change: give a title, body or state.';
      const issue = (await onGitHub(`edit ${shortRef(r, number)}`, () => s.client.rest.issues.update({ ...r, issue_number: number, title, body, state }))).data;
      return `Updated ${shortRef(r, number)} [${issue.state}]: ${issue.html_url}`;
    },
  };
}

const labelIssueSchema = z.object({
  repo: repoArg,
  number: numberArg,
  add: z.array(z.string().min(1)).optional(),
  remove: z.array(z.string().min(1)).optional(),
});

function labelIssue(s: GitHubSession): PantheonTool<typeof labelIssueSchema> {
  return {
    name: 'label_issue',
    description: 'Add labels to, or remove labels from, an issue or pull request.',
    risk: 'write',
    schema: labelIssueSchema,
    async run({ repo, number, add, remove }) {
      const r = parseRepo(repo);
      if (add?.length) await onGitHub('add labels', () => s.client.rest.issues.addLabels({ ...r, issue_number: number, labels: add }));
      for (const name of remove ?? []) {
        await onGitHub(`remove label ${name}`, async () => {
          try {
            await s.client.rest.issues.removeLabel({ ...r, issue_number: number, name });
          } catch (err) {
            if ((err as { status?: number }).status !== 404) throw err; // not there: already removed
          }
        });
      }
      const labels = (await onGitHub('list labels', () => s.client.rest.issues.listLabelsOnIssue({ ...r, issue_number: number, per_page: 100 }))).data;
      return `Labels on ${shortRef(r, number)}: ${labels.map((l) => l.name).join(', ') || 'none'}.`;
    },
  };
}

const assignIssueSchema = z.object({
  repo: repoArg,
  number: numberArg,
  assignees: z.array(z.string().min(1)).min(1).describe('Persona ids (e.g. apollo), human ids, or GitHub logins'),
});

function assignIssue(s: GitHubSession): PantheonTool<typeof assignIssueSchema> {
  return {
    name: 'assign_issue',
    description: 'Assign an issue (or pull request) to personas or humans; the work item follows a persona assignee.',
    risk: 'write',
    schema: assignIssueSchema,
    async run({ repo, number, assignees }, call) {
      const r = parseRepo(repo);
      const resolved = assignees.map((a) => s.deps.team.resolve(a));
      const issue = (await onGitHub(`assign ${shortRef(r, number)}`, () => s.client.rest.issues.addAssignees({ ...r, issue_number: number, assignees: resolved.map((a) => a.login) }))).data;
      const persona = resolved.find((a) => a.persona)?.persona;
      const item = await s.deps.ledger?.getByExternalRef(issueRef(r, number));
      if (item && persona) await s.deps.ledger!.assign(item.id, persona.id, call.persona);
      return `${shortRef(r, number)} is assigned to ${(issue.assignees ?? []).map((a) => s.deps.team.describeLogin(a.login)).join(', ') || 'nobody'}.`;
    },
  };
}

const commentSchema = z.object({ repo: repoArg, number: numberArg, body: z.string().min(1).max(60000) });

function commentOnIssue(s: GitHubSession): PantheonTool<typeof commentSchema> {
  return {
    name: 'comment_on_issue',
    description: "Comment, as you, on an issue or on a pull request's conversation.",
    risk: 'write',
    schema: commentSchema,
    async run({ repo, number, body }, call) {
      const r = parseRepo(repo);
      const comment = await commentOnce(s, r, number, body, call.id);
      return `${comment.created ? 'Commented' : 'Already commented (this call ran before)'} on ${shortRef(r, number)}: ${comment.url}`;
    },
  };
}

/** Posts a comment unless this call already did (its marker is in a comment there). */
async function commentOnce(s: GitHubSession, r: RepoRef, number: number, body: string, callId: string): Promise<{ url: string; created: boolean }> {
  const comments = await onGitHub('list comments', () => s.client.paginate(s.client.rest.issues.listComments, { ...r, issue_number: number, per_page: 100 }));
  const mine = comments.find((c) => hasMarker(c.body, callId));
  if (mine) return { url: mine.html_url, created: false };
  const made = (await onGitHub(`comment on ${shortRef(r, number)}`, () => s.client.rest.issues.createComment({ ...r, issue_number: number, body: withMarker(body, callId) }))).data;
  return { url: made.html_url, created: true };
}

const searchSchema = z.object({
  repo: repoArg.optional().describe('Limit to one repository, as owner/repo'),
  query: z.string().min(1).describe('GitHub search words and qualifiers, e.g. "rate limit label:bug"'),
  state: z.enum(['open', 'closed', 'all']).optional().describe('Default open'),
  type: z.enum(['issue', 'pr', 'any']).optional().describe('Default issue'),
});

function searchIssues(s: GitHubSession): PantheonTool<typeof searchSchema> {
  return {
    name: 'search_issues',
    description: `Search issues (and pull requests) with GitHub's search syntax. ${UNTRUSTED_NOTE}`,
    risk: 'read',
    schema: searchSchema,
    async run({ repo, query, state, type }) {
      const q = [query.trim()];
      if (repo) {
        const r = parseRepo(repo);
        q.push(`repo:${r.owner}/${r.repo}`);
      }
      if ((state ?? 'open') !== 'all') q.push(`state:${state ?? 'open'}`);
      if ((type ?? 'issue') !== 'any') q.push(`is:${type ?? 'issue'}`);
      const found = (await onGitHub('search issues', () => s.client.rest.search.issuesAndPullRequests({ q: q.join(' '), per_page: 30 }))).data;
      if (!found.items.length) return `No results for: ${q.join(' ')}`;
      const lines = found.items.map((i) => {
        const where = i.repository_url.split('/').slice(-2).join('/');
        return `${where}#${i.number} [${i.state}] ${oneLine(i.title)} — ${i.html_url}${i.assignees?.length ? ` (assigned: ${i.assignees.map((a) => a.login).join(', ')})` : ''}`;
      });
      return `${found.total_count} result(s)${found.total_count > lines.length ? `, first ${lines.length}` : ''}:\n${untrusted('GitHub search results', lines.join('\n'))}`;
    },
  };
}
