// The page's side of the worker: promises per call, a time limit per call, and a fresh worker
// when one traps or takes too long (the page itself never waits on the engine).
export class EngineError extends Error {}

export class Engine {
  constructor(url, { timeoutMs = 15000 } = {}) {
    this.url = url;
    this.timeoutMs = timeoutMs;
    this.next = 1;
    this.pending = new Map();
    this.start();
  }

  start() {
    this.worker = new Worker(this.url, { type: "module" });
    this.worker.onmessage = (event) => {
      const { id, ok, value, error, fatal, ms } = event.data;
      const call = this.pending.get(id);
      if (!call) return;
      this.pending.delete(id);
      clearTimeout(call.timer);
      if (ok) call.resolve({ value, ms });
      else call.reject(new EngineError(error));
      if (fatal) this.restart("the engine stopped on an internal error and was restarted");
    };
    this.worker.onerror = (event) => {
      event.preventDefault();
      this.restart(`the engine could not start: ${event.message ?? "unknown error"}`);
    };
  }

  restart(reason) {
    this.worker.terminate();
    for (const call of this.pending.values()) {
      clearTimeout(call.timer);
      call.reject(new EngineError(reason));
    }
    this.pending.clear();
    this.start();
  }

  call(op, args) {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.restart(`${op} took longer than ${this.timeoutMs / 1000} s and was stopped`);
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.worker.postMessage({ id, op, args });
    });
  }
}
