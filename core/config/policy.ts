import { z } from 'zod';

/**
 * What happens when a tool is about to run: `allow` runs it, `ask` pauses for a human
 * approver, `deny` refuses. Decided by the tool's risk class, or overridden per tool name.
 */
const decisionSchema = z.enum(['allow', 'ask', 'deny']);
export type PolicyDecision = z.infer<typeof decisionSchema>;

const RISK_CLASSES = ['read', 'write', 'destructive', 'infra'] as const;
export type RiskClass = (typeof RISK_CLASSES)[number];

const riskPolicySchema = z.strictObject({
  read: decisionSchema.default('allow'),
  write: decisionSchema.default('allow'),
  destructive: decisionSchema.default('ask'),
  infra: decisionSchema.default('ask'),
});

/** `policy:` in pantheon.yaml, with the defaults filled in. */
export const policySchema = z.strictObject({
  risk: riskPolicySchema.prefault({}),
  /** Per tool name, e.g. `github_merge_pull_request: deny`; wins over the risk class. */
  tools: z.record(z.string(), decisionSchema).optional(),
  /** Minutes an approval request stays open before it expires (and the tool does not run). */
  approvalTtlMinutes: z.coerce.number().positive().default(1440),
  /**
   * An approval unanswered this long goes to the next approver (in `humans:` order, awake and
   * wanting approvals), then to `channel` (a thread id) once every approver was asked; the
   * requesting thread is told each time. Left out: every awake approver is asked at once.
   */
  escalation: z
    .strictObject({
      afterMinutes: z.coerce.number().positive(),
      channel: z
        .string()
        .regex(/^[a-z]+:.+/, 'expected a thread id such as "mattermost:ops" or "local:ops"')
        .optional(),
    })
    .optional(),
});
export type Policy = z.infer<typeof policySchema>;

/** `policy:` in a persona file: only what differs from the team-wide policy. */
export const partialPolicySchema = z.strictObject({
  risk: z
    .strictObject({
      read: decisionSchema.optional(),
      write: decisionSchema.optional(),
      destructive: decisionSchema.optional(),
      infra: decisionSchema.optional(),
    })
    .optional(),
  tools: z.record(z.string(), decisionSchema).optional(),
});
export type PartialPolicy = z.infer<typeof partialPolicySchema>;
