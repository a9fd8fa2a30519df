// The --*-port options of every program: a TCP port, 0 for "any free one".
import { InvalidArgumentError } from "commander";

export function portNumber(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number > 65535) throw new InvalidArgumentError(`not a port: ${value}`);
  return number;
}
