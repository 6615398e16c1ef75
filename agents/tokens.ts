import { getEncodingNameForModel, Tiktoken, type TiktokenEncoding, type TiktokenModel } from 'js-tiktoken/lite';

/**
 * Counting tokens the way the model will. OpenAI models are counted with their own encoding
 * (js-tiktoken, which keeps the model-to-encoding map: o200k_base for gpt-4o, gpt-4.1, o-series and
 * gpt-5, cl100k_base for gpt-4 and gpt-3.5). Every other model (Anthropic publishes no tokenizer
 * for its current models; local models each have their own) is estimated from characters, on the
 * generous side: a count that is too high only compacts a little early.
 */
export interface TokenCounter {
  /** `tiktoken:o200k_base`, or `estimate` for the character estimate. */
  readonly kind: string;
  count(text: string): number;
}

/** Characters per token for the estimate: English prose runs about 4, code and other scripts fewer. */
const CHARS_PER_TOKEN = 3.2;

export const estimateCounter: TokenCounter = { kind: 'estimate', count: (text) => Math.ceil(text.length / CHARS_PER_TOKEN) };

const encoders = new Map<TiktokenEncoding, Promise<Tiktoken>>();

/** The ranks are a few megabytes of JavaScript: imported only when a model needs them, once. */
function encoder(name: TiktokenEncoding): Promise<Tiktoken> {
  let e = encoders.get(name);
  if (!e) {
    const ranks = name === 'o200k_base' ? import('js-tiktoken/ranks/o200k_base') : import('js-tiktoken/ranks/cl100k_base');
    e = ranks.then((m) => new Tiktoken(m.default));
    encoders.set(name, e);
  }
  return e;
}

/** The encoding of an OpenAI model, or undefined when it is not one js-tiktoken knows. */
function openAiEncoding(model: string): TiktokenEncoding | undefined {
  try {
    return getEncodingNameForModel(model as TiktokenModel);
  } catch {
    // Dated or newer names of known families (gpt-4.1-mini-2025-…, gpt-5.1): their family's encoding.
    if (/^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o[1-9]|chatgpt-4o)/.test(model)) return 'o200k_base';
    if (/^(gpt-4|gpt-3\.5|gpt-35)/.test(model)) return 'cl100k_base';
    return undefined;
  }
}

/** The counter for a `provider:model`: the model's own encoding where it is known, else the estimate. */
export async function tokenCounterFor(spec: string | undefined): Promise<TokenCounter> {
  const [provider, ...rest] = (spec ?? '').split(':');
  const name = rest.join(':');
  const encoding = provider === 'openai' ? openAiEncoding(name) : undefined;
  if (!encoding || encoding === 'gpt2' || encoding === 'r50k_base' || encoding === 'p50k_base' || encoding === 'p50k_edit') return estimateCounter;
  const tiktoken = await encoder(encoding);
  return { kind: `tiktoken:${encoding}`, count: (text) => (text ? tiktoken.encode(text, [], []).length : 0) };
}
