// smtp-server takes a refusal as an Error carrying the SMTP reply code.
export type SmtpRefusal = Error & { responseCode: number };

export function smtpRefusal(responseCode: number, text: string): SmtpRefusal {
  return Object.assign(new Error(text), { responseCode });
}
