// The provider's half of SRP-6a log-in (client half: shared/srp.ts).
// /login/start remembers the server's ephemeral secret for a minute under a
// random login id; /login/finish checks the client's proof against it.
//
// An unknown username gets a salt and verifier derived from a provider
// secret, stable across attempts and restarts, and goes through the same
// computation, so the answers do not tell which usernames exist.
import { createHmac, randomBytes } from "node:crypto";
import { SRPServerSession, type SRPServerSessionStep1 } from "tssrp6a";
import { fromSrpHex, srpRoutines, toSrpHex } from "../../shared/srp";
import type { AccountStore, User } from "../storage/accounts";
import type { Clock } from "../options";

const LOGIN_TTL_MS = 60_000;
/** Bounds the memory unfinished log-ins can take; the oldest go first. */
const MAX_PENDING_LOGINS = 10_000;
const SALT_BYTES = 128;

type PendingLogin = { userId: number | null; A: bigint; server: SRPServerSessionStep1; expiresAt: number };

export class InvalidClientValueError extends Error {
  constructor() {
    super("invalid SRP client value A");
    this.name = "InvalidClientValueError";
  }
}

export class SrpServer {
  private readonly pending = new Map<string, PendingLogin>();
  private readonly fakeSecret: Buffer;

  constructor(
    private readonly accounts: AccountStore,
    private readonly clock: Clock,
  ) {
    this.fakeSecret = accounts.providerSecret("srp-fake-user-secret", 32);
  }

  async start(username: string, Ahex: string): Promise<{ salt: string; B: string; loginId: string }> {
    const A = fromSrpHex(Ahex);
    if (!srpRoutines.isValidPublicValue(A)) throw new InvalidClientValueError();
    const user = this.accounts.userByName(username);
    const { salt, verifier } = user ? { salt: fromSrpHex(user.srpSalt), verifier: fromSrpHex(user.srpVerifier) } : this.fakeUser(username);
    const server = await new SRPServerSession(srpRoutines).step1(username, salt, verifier);
    const loginId = randomBytes(24).toString("base64url");
    this.remember(loginId, { userId: user?.id ?? null, A, server, expiresAt: this.clock.now() + LOGIN_TTL_MS });
    return { salt: toSrpHex(salt), B: toSrpHex(server.B), loginId };
  }

  /** The logged-in user and the server's proof M2, or null for any failure
   * (unknown or expired login id, unknown user, wrong proof). */
  async finish(loginId: string, M1hex: string): Promise<{ user: User; M2: string } | null> {
    const login = this.pending.get(loginId);
    // One try per login id: a wrong proof cannot be retried against the same B.
    this.pending.delete(loginId);
    if (!login || login.expiresAt <= this.clock.now()) return null;
    let M2: bigint;
    try {
      M2 = await login.server.step2(login.A, fromSrpHex(M1hex));
    } catch {
      return null;
    }
    const user = login.userId === null ? undefined : this.accounts.userById(login.userId);
    return user ? { user, M2: toSrpHex(M2) } : null;
  }

  private remember(loginId: string, login: PendingLogin): void {
    const now = this.clock.now();
    for (const [id, old] of this.pending) {
      if (old.expiresAt > now && this.pending.size < MAX_PENDING_LOGINS) break;
      this.pending.delete(id);
    }
    this.pending.set(loginId, login);
  }

  private fakeUser(username: string): { salt: bigint; verifier: bigint } {
    const derive = (label: string, bytes: number) => {
      const out = Buffer.alloc(bytes);
      for (let offset = 0, block = 0; offset < bytes; block++) {
        offset += createHmac("sha512", this.fakeSecret).update(`${label}\0${block}\0${username}`).digest().copy(out, offset);
      }
      return BigInt(`0x${out.toString("hex")}`);
    };
    const x = derive("verifier", 64);
    return { salt: derive("salt", SALT_BYTES), verifier: srpRoutines.computeVerifier(x) };
  }
}

