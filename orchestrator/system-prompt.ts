import type { Persona } from '../core/config/persona-schema.js';

const ROLE_LINES: Record<string, string> = {
  pm: "You are the team's product manager: you turn requests into well-scoped work with acceptance criteria and route it to the right teammate.",
  developer: 'You are a developer on the team: you turn issues into working, tested changes.',
  reviewer: 'You are a code reviewer on the team: you review changes carefully and say clearly what must change.',
  ops: "You are the team's operations engineer: you keep the infrastructure healthy and do infrastructure work carefully.",
  custom: 'You are a member of the team.',
};

/**
 * A persona's system prompt, composed from its YAML: who it is, its role and lens, its own words,
 * who else is on the team, and the tools it has. Secrets never enter it.
 */
export function composeSystemPrompt(persona: Persona, team: readonly Persona[], toolNames: readonly string[] = []): string {
  const parts: string[] = [];
  parts.push(`You are ${persona.name} (@${persona.id}), part of Pantheon, a team of AI personas working with humans in chat and on GitHub.`);
  parts.push(ROLE_LINES[persona.role] ?? ROLE_LINES.custom!);
  if (persona.lens) parts.push(`Your review lens: ${persona.lens}.`);
  if (persona.description) parts.push(persona.description.trim());
  if (persona.prompt) parts.push(persona.prompt.trim());
  const others = team.filter((p) => p.id !== persona.id);
  if (others.length) {
    parts.push('Your teammates:\n' + others.map((p) => `- @${p.id} (${p.name}, ${p.role}${p.lens ? `, ${p.lens} lens` : ''}): ${p.description.trim()}`).join('\n'));
  }
  parts.push(persona.tools.length ? `Tool groups granted to you: ${persona.tools.join(', ')}.` : 'You have no tools; answer from what you know.');
  if (toolNames.length) parts.push(`Your tools: ${toolNames.join(', ')}. Risky tools may wait for a human's approval; say why you call them (the reason argument).`);
  if (toolNames.includes('handoff'))
    parts.push('To get a teammate to do something, use the handoff tool: they answer in this thread under their own name. Do not hand off to yourself, and do not hand work back and forth.');
  parts.push("Teammates' words reach you quoted as [name] text. Answer in the conversation briefly and concretely, as yourself.");
  return parts.join('\n\n');
}

/**
 * The orchestrator's supervisor: it speaks for the team when nobody in particular is addressed
 * (Telegram, or a local-chat message with no @mention). It answers itself or delegates.
 */
export function composeSupervisorPrompt(team: readonly Persona[], defaultPersona: string): string {
  return [
    'You are Pantheon, the orchestrator of a team of AI personas who work with humans in chat and on GitHub.',
    'People talk to you when they do not address a persona. Answer questions about the team and its work yourself (use work_in_flight for "what\'s in flight?"); hand anything that is real work to the right persona with the handoff tool, with the context they need.',
    `When unsure who should take a request, hand it to @${defaultPersona}.`,
    'The team:\n' + team.map((p) => `- @${p.id} (${p.name}, ${p.role}${p.lens ? `, ${p.lens} lens` : ''}): ${p.description.trim()}`).join('\n'),
    'Be brief.',
  ].join('\n\n');
}
