// What Postfix needs to put itself in front of the provider: main.cf
// settings (our domain's mail goes to the provider over LMTP after the
// recipient lookup) and a master.cf service, a Unix socket where the
// provider hands over outgoing mail. Used by `bitmask-provider setup` and by
// the tests' Postfix instances, so both run the same configuration.

/** The master.cf service the provider submits to; Postfix makes its socket
 * at <queue_directory>/public/bitmask-submit. */
export const SUBMIT_SERVICE = "bitmask-submit";

export type PostfixSettings = { main: Record<string, string>; master: string[] };

export function postfixSettings(options: { domain: string; lmtpSocket: string; lookupSocket: string }): PostfixSettings {
  const { domain, lmtpSocket, lookupSocket } = options;
  return {
    main: {
      virtual_mailbox_domains: domain,
      // Unknown users are refused at RCPT ("User unknown in virtual mailbox table").
      virtual_mailbox_maps: `socketmap:unix:${lookupSocket}:mailbox`,
      // The rest of the MX's RCPT decision: no published key, mailbox full.
      smtpd_recipient_restrictions: `check_recipient_access socketmap:unix:${lookupSocket}:access`,
      virtual_transport: `lmtp:unix:${lmtpSocket}`,
      // The client's address and HELO name reach the provider's SPF check.
      lmtp_send_xforward_command: "yes",
      // Opportunistic STARTTLS to other MTAs.
      smtp_tls_security_level: "may",
    },
    master: [
      // Only local processes that can open the socket reach it (the
      // unix-socket client shows as localhost[127.0.0.1]); they may relay.
      `${SUBMIT_SERVICE} unix n - n - - smtpd`,
      "  -o mynetworks=127.0.0.1/32",
      "  -o smtpd_relay_restrictions=permit_mynetworks,reject",
      "  -o smtpd_recipient_restrictions=",
    ],
  };
}

/** main.cf lines ("name = value"). */
export function mainCfLines(main: Record<string, string>): string[] {
  return Object.entries(main).map(([name, value]) => `${name} = ${value}`);
}
