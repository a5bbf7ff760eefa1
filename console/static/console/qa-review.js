// The review form: the total points and percent as the supervisor scores,
// next to the rubric's fields (the server checks and stores the same sum).

const output = document.getElementById("review-total");
const inputs = [...document.querySelectorAll("input.score-input")];

function update() {
  let points = 0;
  let possible = 0;
  let complete = true;
  for (const input of inputs) {
    const max = Number(input.dataset.max);
    possible += max;
    const value = input.value.trim() === "" ? NaN : Number(input.value);
    if (!Number.isInteger(value) || value < 0 || value > max) complete = false;
    else points += value;
  }
  const percent = possible ? Math.round((1000 * points) / possible) / 10 : 0;
  output.textContent = complete
    ? `${points} of ${possible} points (${percent}%)`
    : `${points} of ${possible} points so far: score every criterion from 0 to its maximum.`;
}

if (output && inputs.length) {
  for (const input of inputs) input.addEventListener("input", update);
  update();
}
