// Faults that are neither the request's nor a bug: the service cannot do the job now (shutting down, or the
// queue's Redis lost it). The API answers them 503 with the reason, so a client knows to try again.
export class Unavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = "Unavailable";
  }
}
