// The setup page, one action per state: unlock the accounts bitmaskd holds
// locked, or else sign up (passphrase typed twice, with a strength hint) or
// log in on a new device. Enter does the action shown. A provider whose
// certificate the system does not trust is shown by fingerprint and, once
// the user accepts it, pinned; plain http:// is refused except on loopback.
import type { DaemonStatus, ProviderCertificate } from "../shared/control-api";
import { checkProviderUrl } from "../shared/provider-url";
import { formatFingerprint } from "./format";
import type { PageRequest } from "./messages";
import { ask, element, onStatusChanged, syncText } from "./page";

const unlockSection = document.getElementById("unlock")!;
const lockedForms = document.getElementById("locked-forms")!;
const addSection = document.getElementById("add")!;
const form = document.getElementById("form") as HTMLFormElement;
const submit = document.getElementById("submit") as HTMLButtonElement;
const strength = document.getElementById("strength")!;
const confirmLabel = document.getElementById("confirm-label")!;
const providerHint = document.getElementById("provider-hint")!;
const pinBox = document.getElementById("pin")!;
const pinFingerprint = document.getElementById("pin-fingerprint")!;
const result = document.getElementById("result")!;
const field = (name: string) => form.elements.namedItem(name) as HTMLInputElement;

type Mode = "signup" | "login";
let mode: Mode = "signup";
/** The certificate shown for the provider in the form, waiting for the user's yes. */
let pin: { provider: string; certificate: ProviderCertificate } | null = null;
/** After a sign-up or log-in: whose first sync to follow. */
let following: string | null = null;
let addChosen = false;

function setMode(next: Mode): void {
  mode = next;
  document.getElementById("mode-signup")!.setAttribute("aria-pressed", String(next === "signup"));
  document.getElementById("mode-login")!.setAttribute("aria-pressed", String(next === "login"));
  confirmLabel.hidden = next !== "signup";
  field("confirm").required = next === "signup";
  field("passphrase").autocomplete = next === "signup" ? "new-password" : "current-password";
  providerHint.textContent =
    next === "signup"
      ? "Where to sign up. Leave empty for an account on this computer only."
      : "The provider the account is at (its mail and keys come from there).";
  field("provider").required = next === "login";
  strength.hidden = next !== "signup";
  setPin(null);
}

function setPin(next: typeof pin): void {
  pin = next;
  pinBox.hidden = !next;
  pinFingerprint.textContent = next ? formatFingerprint(next.certificate.fingerprint.replaceAll(":", "")) : "";
  const verb = mode === "signup" ? "sign up" : "log in";
  submit.textContent = next ? `Trust this certificate and ${verb}` : mode === "signup" ? "Sign up" : "Log in";
}

/** A rough guess at how many guesses the passphrase takes, in words. */
function strengthHint(passphrase: string): string {
  if (passphrase === "") return "";
  const pools = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^a-zA-Z0-9]/].filter((pool) => pool.test(passphrase)).length;
  const bits = passphrase.length * Math.log2([0, 26, 52, 62, 95][pools]!);
  if (bits < 45) return "Weak: it guards all your mail; several words or more characters make it much harder to guess.";
  if (bits < 70) return "Fair: a few more words would make it strong.";
  return "Strong.";
}

function renderLocked(status: DaemonStatus): void {
  lockedForms.replaceChildren();
  for (const address of status.locked) {
    const unlockForm = element("form", undefined, "locked");
    const passphrase = element("input");
    Object.assign(passphrase, { type: "password", name: "passphrase", required: true, autocomplete: "current-password" });
    const label = element("label", `Passphrase for ${address}`);
    label.append(passphrase);
    const button = element("button", "Unlock", "primary");
    button.type = "submit";
    const buttons = element("div", undefined, "buttons");
    buttons.append(button);
    unlockForm.append(label, buttons);
    unlockForm.addEventListener("submit", (event) => {
      event.preventDefault();
      result.textContent = `Unlocking ${address}…`;
      void ask({ type: "login", address, passphrase: passphrase.value }).then((reply) => {
        result.textContent = reply.ok ? `${address} is unlocked: Thunderbird reads its mail again.` : `${address} is still locked: ${reply.error}`;
        if (reply.ok) void refresh();
      });
    });
    lockedForms.append(unlockForm);
  }
}

async function refresh(): Promise<void> {
  const reply = await ask({ type: "status" });
  if (!reply.ok || !reply.view.status) {
    if (!reply.ok || reply.view.problem) result.textContent = `bitmaskd is not reachable: ${reply.ok ? reply.view.problem : reply.error}`;
    return;
  }
  const status = reply.view.status;
  const unlocking = status.locked.length > 0 && !addChosen;
  // Never rebuild the unlock forms under a passphrase being typed.
  if (!lockedForms.contains(document.activeElement)) renderLocked(status);
  unlockSection.hidden = status.locked.length === 0;
  addSection.hidden = unlocking;
  const account = following ? status.accounts.find((candidate) => candidate.address === following) : undefined;
  if (account) result.textContent = `${account.address} is ready: Thunderbird's account is set up. First sync: ${syncText(account)}.`;
}

/** The provider fields of a request, or a reason to stop (said in `result`). */
async function providerChoice(): Promise<{ provider?: string; providerCa?: string } | null> {
  const provider = field("provider").value.trim();
  if (!provider) return {};
  let url: URL;
  try {
    url = checkProviderUrl(provider);
  } catch (error) {
    result.textContent = error instanceof TypeError ? `${provider} is not a web address.` : (error as Error).message;
    return null;
  }
  if (url.protocol === "http:") return { provider };
  if (pin?.provider === provider) return { provider, providerCa: pin.certificate.pem };
  result.textContent = "Checking the provider's certificate…";
  const reply = await ask({ type: "certificate", provider });
  if (!reply.ok || !reply.certificate) {
    result.textContent = reply.ok ? "The provider sent no certificate." : reply.error;
    return null;
  }
  if (reply.certificate.trusted) return { provider };
  setPin({ provider, certificate: reply.certificate });
  result.textContent = "Compare the fingerprint, then trust the certificate (or change the provider).";
  return null;
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const address = field("address").value.trim();
  const passphrase = field("passphrase").value;
  if (mode === "signup" && passphrase !== field("confirm").value) {
    result.textContent = "The two passphrases differ: type the same one twice.";
    return;
  }
  void (async () => {
    const choice = await providerChoice();
    if (!choice) return;
    result.textContent = mode === "signup" ? "Creating the account…" : "Logging in…";
    const request: PageRequest = { type: mode === "signup" ? "create" : "login", address, passphrase, ...choice };
    const reply = await ask(request);
    if (!reply.ok) {
      result.textContent = `Failed: ${reply.error}`;
      return;
    }
    following = address.toLowerCase();
    form.reset();
    setPin(null);
    result.textContent = `${address} is ready: Thunderbird's account is being set up.`;
    await refresh();
  })();
});

field("passphrase").addEventListener("input", () => (strength.textContent = strengthHint(field("passphrase").value)));
// A changed provider needs its own certificate check.
field("provider").addEventListener("input", () => {
  if (pin && pin.provider !== field("provider").value.trim()) setPin(null);
});
document.getElementById("mode-signup")!.addEventListener("click", () => setMode("signup"));
document.getElementById("mode-login")!.addEventListener("click", () => setMode("login"));
document.getElementById("add-instead")!.addEventListener("click", () => {
  addChosen = true;
  void refresh();
});

setMode("signup");
onStatusChanged(() => void refresh());
void refresh();
