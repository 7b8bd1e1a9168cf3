/** Whether this process is inside the training loop: Ctrl-C says what it will do (checkpoint, or stop at once). */
let training = false;

export function setTraining(on: boolean): void {
  training = on;
}

export function isTraining(): boolean {
  return training;
}
