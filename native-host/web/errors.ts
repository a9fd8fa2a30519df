// The web reader's refusals: an HTTP status and a message the page (or a
// script calling the API) shows as it is.

export class WebRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "WebRefusal";
  }
}
