// The IMAP answer to a login for an account that waits for its passphrase,
// shared by the daemon (which says it) and the add-on (which recognizes it).
//
// Thunderbird's nsImapProtocol::TryToLogon asks "Retry / Enter New Password /
// Cancel" after a failed login, unless the NO carries the [UNAVAILABLE]
// response code (RFC 5530): then it gives up without that dialog and only
// passes the text on as an alert, which the add-on takes (as a
// nsIMsgUserFeedbackListener) and answers with its own unlock page.

/** Follows the address in the NO [UNAVAILABLE] text; how the add-on knows the alert is ours. */
export const LOCKED_LOGIN_TEXT = "is locked: unlock it in Bitmask Mail";
