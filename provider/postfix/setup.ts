// `bitmask-provider setup --domain D --postfix DIR`: writes what a Postfix
// deployment needs into DIR (the main.cf and master.cf additions, a DKIM
// key, the link file the provider reads with `--postfix DIR`) and returns
// the DNS records to publish and how to install it all.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import type { PostfixLink } from "../options";
import { newDkimKey } from "./dkim-key";
import { mainCfLines, postfixSettings, SUBMIT_SERVICE } from "./postfix-config";

export const LINK_FILE = "postfix-link.json";

const linkFile = z.object({
  lmtpSocket: z.string(),
  lookupSocket: z.string(),
  socketGroupId: z.number().int().nullable(),
  relaySocket: z.string(),
  dkimSelector: z.string(),
  dkimKeyFile: z.string(),
});

export class SetupError extends Error {}

export type SetupOptions = {
  domain: string;
  /** Where the files go (created if missing). */
  dir: string;
  /** The host name the MX record names. Default mx.<domain>. */
  mxHost?: string;
  /** Postfix's queue directory: its submission socket is under public/. */
  queueDir?: string;
  selector?: string;
};

export function writePostfixSetup(options: SetupOptions): { dnsRecords: string[]; instructions: string } {
  const { domain } = options;
  const dir = path.resolve(options.dir);
  const mxHost = options.mxHost ?? `mx.${domain}`;
  const selector = options.selector ?? "bitmask1";
  const queueDir = options.queueDir ?? "/var/spool/postfix";
  // Never overwrite: the DKIM key may already be published in DNS.
  if (existsSync(path.join(dir, LINK_FILE))) throw new SetupError(`${dir} already holds a setup (${LINK_FILE}); remove it to start over`);
  mkdirSync(dir, { recursive: true });
  const sockets = { lmtpSocket: path.join(dir, "lmtp"), lookupSocket: path.join(dir, "lookup") };
  const settings = postfixSettings({ domain, ...sockets });
  const key = newDkimKey();
  const dkimKeyFile = path.join(dir, `dkim-${selector}.pem`);
  writeFileSync(dkimKeyFile, key.privateKey, { mode: 0o600 });
  writeFileSync(path.join(dir, "main.cf.bitmask"), `${mainCfLines(settings.main).join("\n")}\n`);
  writeFileSync(path.join(dir, "master.cf.bitmask"), `${settings.master.join("\n")}\n`);
  const dnsRecords = [
    `${domain}. IN MX 10 ${mxHost}.`,
    `${domain}. IN TXT "v=spf1 mx -all"`,
    `${selector}._domainkey.${domain}. IN TXT ${(key.dnsText.match(/.{1,255}/g) ?? []).map((part) => `"${part}"`).join(" ")}`,
    `_dmarc.${domain}. IN TXT "v=DMARC1; p=quarantine; adkim=r; aspf=r"`,
  ];
  writeFileSync(path.join(dir, "dns-records.txt"), `${dnsRecords.join("\n")}\n`);
  const link = { ...sockets, socketGroupId: groupId("postfix"), relaySocket: path.join(queueDir, "public", SUBMIT_SERVICE), dkimSelector: selector, dkimKeyFile };
  writeFileSync(path.join(dir, LINK_FILE), `${JSON.stringify(link, null, 2)}\n`);
  const instructions = [
    `Postfix configuration for ${domain} written to ${dir}. To install it:`,
    `  postconf -e $(sed 's/ = /=/' ${path.join(dir, "main.cf.bitmask")} | tr '\\n' ' ')   # or add the lines to /etc/postfix/main.cf`,
    `  cat ${path.join(dir, "master.cf.bitmask")} >> /etc/postfix/master.cf`,
    `  postfix reload`,
    `Run the provider with: bitmask-provider --domain ${domain} --data-dir DATA --postfix ${dir}`,
    `(it makes the LMTP and lookup sockets in ${dir}, readable by the postfix group; its user needs the postdrop group for ${link.relaySocket}).`,
    `Publish these DNS records (also in ${path.join(dir, "dns-records.txt")}):`,
    ...dnsRecords.map((record) => `  ${record}`),
  ].join("\n");
  return { dnsRecords, instructions };
}

/** The link `--postfix DIR` reads, as the provider's options. */
export function readPostfixSetup(dir: string): PostfixLink {
  const file = path.join(path.resolve(dir), LINK_FILE);
  if (!existsSync(file)) throw new SetupError(`${file} not found: run bitmask-provider setup --domain D --postfix ${dir} first`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new SetupError(`${file} is not JSON: ${(error as Error).message}`);
  }
  const parsed = linkFile.safeParse(json);
  if (!parsed.success) throw new SetupError(`${file} is not a setup file: ${parsed.error.message}`);
  const link = parsed.data;
  return {
    lmtpSocket: link.lmtpSocket,
    lookupSocket: link.lookupSocket,
    socketGroupId: link.socketGroupId ?? undefined,
    relay: { socket: link.relaySocket },
    dkim: { selector: link.dkimSelector, privateKey: readFileSync(link.dkimKeyFile, "utf8") },
  };
}

/** A group's id from /etc/group, or null when there is no such group. */
function groupId(name: string): number | null {
  const line = existsSync("/etc/group") ? readFileSync("/etc/group", "utf8").split("\n").find((l) => l.startsWith(`${name}:`)) : undefined;
  const id = Number(line?.split(":")[2]);
  return Number.isSafeInteger(id) ? id : null;
}
