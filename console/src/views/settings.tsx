import { api } from '../api.js';
import { useLoad } from '../load.js';
import { Badge, Failure, Json, Loading, Time } from '../ui/bits.js';

interface SettingsAnswer {
  config: unknown;
  personas: { id?: string; name?: string }[];
  configFile: string | null;
  doctor: { ok: boolean; checkedAt: string; sections: { title: string; facts: { mark: string; text: string }[] }[] };
}

const MARK_TONE: Record<string, 'ok' | 'warn' | 'bad' | 'muted'> = { ok: 'ok', warn: 'warn', fail: 'bad', error: 'bad', info: 'muted' };

/** Read-only: the effective configuration (secrets masked by the server) and the doctor's results. */
export function SettingsView() {
  const settings = useLoad('settings', () => api.get<SettingsAnswer>('/api/settings'));
  if (settings.error && !settings.data) return <Failure error={settings.error} retry={settings.reload} />;
  if (!settings.data) return <Loading />;
  const { config, personas, configFile, doctor } = settings.data;
  return (
    <>
      <section aria-labelledby="doctor-title">
        <h2 id="doctor-title">
          Doctor <Badge tone={doctor.ok ? 'ok' : 'bad'}>{doctor.ok ? 'all good' : 'problems found'}</Badge>{' '}
          <span class="muted">
            checked <Time at={doctor.checkedAt} />
          </span>
        </h2>
        {doctor.sections.map((s) => (
          <div key={s.title} class="card">
            <h3>{s.title}</h3>
            <ul>
              {s.facts.map((f, i) => (
                <li key={i}>
                  <Badge tone={MARK_TONE[f.mark] ?? 'muted'}>{f.mark}</Badge> {f.text}
                </li>
              ))}
            </ul>
          </div>
        ))}
      </section>
      <section aria-labelledby="config-title">
        <h2 id="config-title">Effective configuration</h2>
        <p class="muted">{configFile ? `From ${configFile}, after defaults.` : 'Defaults only: no pantheon.yaml.'} Secrets are shown as ***. Change it in the file and restart.</p>
        <Json value={config} tall />
      </section>
      <section aria-labelledby="personas-title">
        <h2 id="personas-title">Personas</h2>
        {personas.map((p, i) => (
          <details key={p.id ?? i}>
            <summary>{p.name ?? p.id ?? `persona ${i + 1}`}</summary>
            <Json value={p} />
          </details>
        ))}
      </section>
    </>
  );
}
