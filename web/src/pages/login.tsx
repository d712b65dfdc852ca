import { useState } from "preact/hooks";
import { ApiError, api, call, type User } from "../api/client";

type Step =
  | { kind: "password" }
  | { kind: "totp"; pending: string }
  | { kind: "enrol"; pending: string; secret: string | null; uri: string | null };

export function LoginPage({ onSignedIn }: { onSignedIn: (user: User) => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [step, setStep] = useState<Step>({ kind: "password" });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  const submitPassword = (ev: Event) => {
    ev.preventDefault();
    void run(async () => {
      const out = await call(api.POST("/api/auth/login", { body: { email, password } }));
      if (out.second_factor === "totp" && out.pending_token) {
        setStep({ kind: "totp", pending: out.pending_token });
      } else if (out.second_factor === "enrol" && out.pending_token) {
        setStep({ kind: "enrol", pending: out.pending_token, secret: null, uri: null });
      } else {
        onSignedIn(out.user);
      }
    });
  };

  const submitCode = (ev: Event) => {
    ev.preventDefault();
    if (step.kind === "password") return;
    void run(async () => {
      const out = await call(
        api.POST("/api/auth/login/second-factor", { body: { pending_token: step.pending, code } }),
      );
      onSignedIn(out.user);
    });
  };

  const startEnrolment = () => {
    if (step.kind !== "enrol") return;
    void run(async () => {
      const e = await call(api.POST("/api/auth/login/enrol", { body: { pending_token: step.pending } }));
      setStep({ ...step, secret: e.secret, uri: e.otpauth_uri });
    });
  };

  const alert = error && (
    <div class="alert error" role="alert">
      {error}
    </div>
  );
  const brand = (
    <div class="brand big">
      <span class="logo" aria-hidden="true">◆</span> labelproof
    </div>
  );

  if (step.kind !== "password") {
    const needsSecret = step.kind === "enrol" && step.secret === null;
    return (
      <div class="login">
        <form class="card login-card" onSubmit={submitCode}>
          {brand}
          {step.kind === "totp" && <p class="muted">Enter the 6-digit code from your authenticator app.</p>}
          {step.kind === "enrol" && (
            <p class="muted">Your organisation requires a second factor. Set up an authenticator app to continue.</p>
          )}
          {needsSecret && (
            <button class="btn" type="button" onClick={startEnrolment} disabled={busy}>
              Show my secret
            </button>
          )}
          {step.kind === "enrol" && step.secret && (
            <div class="enrol-secret">
              <p class="muted">Add this key to the app (it is shown once):</p>
              <code data-testid="totp-secret">{step.secret}</code>
              {step.uri && (
                <p class="muted small">
                  <a href={step.uri}>Open in an authenticator app</a>
                </p>
              )}
            </div>
          )}
          {!needsSecret && (
            <label>
              Code
              <input
                name="code"
                inputMode="numeric"
                autocomplete="one-time-code"
                pattern="[0-9 ]{6,7}"
                required
                value={code}
                onInput={(e) => setCode((e.target as HTMLInputElement).value)}
              />
            </label>
          )}
          {alert}
          {!needsSecret && (
            <button class="btn primary" type="submit" disabled={busy}>
              {busy ? "Checking…" : "Continue"}
            </button>
          )}
        </form>
      </div>
    );
  }

  return (
    <div class="login">
      <form class="card login-card" onSubmit={submitPassword}>
        {brand}
        <p class="muted">Sign in to your annotation programme.</p>
        <label>
          Email
          <input
            name="email"
            type="email"
            autocomplete="username"
            required
            value={email}
            onInput={(e) => setEmail((e.target as HTMLInputElement).value)}
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
          />
        </label>
        {alert}
        <button class="btn primary" type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </div>
  );
}
