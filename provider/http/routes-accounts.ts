// Sign-up, SRP log-in, the secrets blob and passphrase changes.
import {
  loginFinishRequest,
  type LoginFinishResponse,
  loginStartRequest,
  type LoginStartResponse,
  passphraseChange,
  secretsBlob,
  signupRequest,
  type SignupResponse,
} from "../../shared/provider-api";
import { InvalidClientValueError } from "../srp/srp-server";
import { HttpError, readJson, sendEmpty, sendJson } from "./http-io";
import type { HttpContext, Route } from "./router";

/** Names that belong to the provider itself (bounces come from mailer-daemon). */
const RESERVED_USERNAMES = new Set(["postmaster", "mailer-daemon", "abuse", "root", "admin", "hostmaster", "webmaster"]);

export function accountRoutes(context: HttpContext): Route[] {
  const { accounts, srp, clock, limits, domain } = context;
  const failLogin = async (): Promise<never> => {
    await new Promise((resolve) => clock.setTimeout(() => resolve(undefined), context.authFailureDelayMs));
    throw new HttpError(401, "log-in failed");
  };

  return [
    {
      method: "POST",
      path: /^\/signup$/,
      async handle({ req, res }) {
        const body = await readJson(req, signupRequest, limits.maxJsonBytes);
        if (RESERVED_USERNAMES.has(body.username) || !accounts.createUser(body.username, body.salt, body.verifier, clock.now())) {
          throw new HttpError(409, "username taken");
        }
        context.log.info({ event: "signup", user: body.username }, "account created");
        sendJson(res, 201, { address: `${body.username}@${domain}` } satisfies SignupResponse);
      },
    },
    {
      method: "POST",
      path: /^\/login\/start$/,
      async handle({ req, res }) {
        const body = await readJson(req, loginStartRequest, limits.maxJsonBytes);
        try {
          sendJson(res, 200, (await srp.start(body.username, body.A)) satisfies LoginStartResponse);
        } catch (error) {
          if (error instanceof InvalidClientValueError) throw new HttpError(400, error.message);
          throw error;
        }
      },
    },
    {
      method: "POST",
      path: /^\/login\/finish$/,
      async handle({ req, res }) {
        const body = await readJson(req, loginFinishRequest, limits.maxJsonBytes);
        const login = await srp.finish(body.loginId, body.M1);
        if (!login) {
          context.log.info({ event: "login-failed" }, "log-in failed");
          return failLogin();
        }
        const session = accounts.createSession(login.user.id, clock.now(), context.sessionTtlMs);
        context.log.info({ event: "login", user: login.user.username }, "logged in");
        sendJson(res, 200, {
          M2: login.M2,
          token: session.token,
          expiresAt: session.expiresAt,
          address: `${login.user.username}@${domain}`,
        } satisfies LoginFinishResponse);
      },
    },
    {
      method: "GET",
      path: /^\/secrets$/,
      auth: true,
      async handle({ res, user }) {
        const blob = accounts.secretsBlob(user.id);
        if (blob === null) throw new HttpError(404, "no secrets stored");
        sendJson(res, 200, { blob });
      },
    },
    {
      method: "PUT",
      path: /^\/secrets$/,
      auth: true,
      async handle({ req, res, user }) {
        const body = await readJson(req, secretsBlob, limits.maxJsonBytes);
        accounts.putSecretsBlob(user.id, body.blob);
        sendEmpty(res);
      },
    },
    {
      method: "PUT",
      path: /^\/passphrase$/,
      auth: true,
      async handle({ req, res, user }) {
        const body = await readJson(req, passphraseChange, limits.maxJsonBytes);
        // A session token alone (one stolen, say) cannot change the passphrase:
        // the request proves knowledge of the current one, as a log-in does.
        const proof = await srp.finish(body.proof.loginId, body.proof.M1);
        if (!proof || proof.user.id !== user.id) {
          context.log.info({ event: "passphrase-change-refused", user: user.username }, "passphrase change without a valid proof");
          return failLogin();
        }
        accounts.changePassphrase(user.id, body.salt, body.verifier, body.blob);
        context.log.info({ event: "passphrase-changed", user: user.username }, "passphrase changed");
        sendEmpty(res);
      },
    },
    {
      method: "POST",
      path: /^\/logout$/,
      auth: true,
      async handle({ res, user, token }) {
        accounts.endSession(token);
        context.log.info({ event: "logout", user: user.username }, "logged out");
        sendEmpty(res);
      },
    },
  ];
}
