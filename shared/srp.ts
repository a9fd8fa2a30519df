// SRP-6a for provider sign-up and log-in, the client half (the provider's
// half is provider/srp/). Both use these routines: tssrp6a's (Nimbus-style)
// with the RFC 5054 2048-bit group and SHA-512. Numbers are lowercase hex on
// the wire (shared/provider-api.ts).
//
// `password` is whatever secret the client proves knowledge of. A client
// should pass a slow derivation of the passphrase (scrypt), not the
// passphrase: the provider stores a verifier, and a stolen verifier allows
// offline guessing at the cost of one password derivation per guess.
import { SRPParameters, SRPRoutines, createVerifierAndSalt } from "tssrp6a";

export const srpRoutines = new SRPRoutines(new SRPParameters(SRPParameters.PrimeGroup[2048], SRPParameters.H.SHA512));

export function toSrpHex(value: bigint): string {
  return value.toString(16);
}

export function fromSrpHex(value: string): bigint {
  if (!/^[0-9a-f]+$/.test(value)) throw new Error("not lowercase hex");
  return BigInt(`0x${value}`);
}

/** The salt and verifier sent at sign-up. */
export async function srpRegistration(username: string, password: string): Promise<{ salt: string; verifier: string }> {
  const { s, v } = await createVerifierAndSalt(srpRoutines, username, password);
  return { salt: toSrpHex(s), verifier: toSrpHex(v) };
}

export type SrpLoginProof = {
  /** The client's proof for /login/finish. */
  M1: string;
  /** Resolves when the server's proof M2 is right; rejects otherwise (an impostor provider). */
  verifyServer(M2: string): Promise<void>;
};

/** One log-in attempt: send `A` to /login/start, then answer its salt and B
 * with the proof for /login/finish. */
export function srpLogin(username: string, password: string): { A: string; answer(salt: string, B: string): Promise<SrpLoginProof> } {
  const routines = srpRoutines;
  const a = routines.generatePrivateValue();
  const A = routines.computeClientPublicValue(a);
  return {
    A: toSrpHex(A),
    async answer(saltHex, BHex) {
      const salt = fromSrpHex(saltHex);
      const B = fromSrpHex(BHex);
      // A provider that sends B = 0 (mod N) would learn nothing but would
      // make the session key predictable; RFC 5054 says abort.
      if (!routines.isValidPublicValue(B)) throw new Error("invalid SRP server value B");
      const u = await routines.computeU(A, B);
      if (u === 0n) throw new Error("invalid SRP scrambling parameter");
      const x = await routines.computeX(username, salt, password);
      const S = routines.computeClientSessionKey(await routines.computeK(), x, u, a, B);
      const M1 = await routines.computeClientEvidence(username, salt, A, B, S);
      return {
        M1: toSrpHex(M1),
        async verifyServer(M2) {
          const expected = await routines.computeServerEvidence(A, M1, S);
          if (fromSrpHex(M2) !== expected) throw new Error("the provider's SRP proof is wrong: not the provider this account was made with");
        },
      };
    },
  };
}
