/* gradtrace's interactive page: step through the forward and backward passes.

   The page's data (the JSON in #gt-data, written by gradtrace/render/html.py) says, for every
   stop of the stepper, which SVG elements it lights, and for every element the first stop at
   which it shows its value (or carries the forward pass) and its gradient (or carries the
   backward pass). This script only moves between stops and toggles classes; it computes no
   number, so the page shows exactly the numbers of the text output. A quiz is graded here
   with the answers, tolerances and typical mistakes the data holds. Nothing is loaded. */
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("gt-data").textContent);
  var words = data.words || {};  // the page's sentences in the reader's language (html.py)

  function say(key, fields) {
    // a sentence of the page's language, its {name} fields filled in
    return (words[key] || key).replace(/\{(\w+)\}/g, function (all, name) {
      return fields && fields[name] !== undefined ? String(fields[name]) : all;
    });
  }

  function sayInto(parent, key, fields) {
    // the same sentence appended to `parent`, where a field may be an element (a button)
    var text = words[key] || key;
    var pattern = /\{(\w+)\}/g;
    var at = 0;
    var match;
    while ((match = pattern.exec(text)) !== null) {
      if (match.index > at) {
        parent.appendChild(document.createTextNode(text.slice(at, match.index)));
      }
      var value = fields[match[1]];
      parent.appendChild(value instanceof Node ? value : document.createTextNode(String(value)));
      at = pattern.lastIndex;
    }
    if (at < text.length) {
      parent.appendChild(document.createTextNode(text.slice(at)));
    }
    return parent;
  }
  var steps = data.steps;  // [phase, label, [names of the elements lit]]
  var last = steps.length - 1;
  var svg = document.querySelector("#graph svg");
  var figure = document.getElementById("graph");
  var slider = document.getElementById("slider");
  var counter = document.getElementById("counter");
  var playButton = document.getElementById("play");
  var speed = document.getElementById("speed");
  var now = document.getElementById("now");
  var detail = document.getElementById("detail");

  // -- the picture's elements, by name ----------------------------------------------------
  var named = new Map();  // the graph's nodes and edges, and the marks of the depth chart
  document.querySelectorAll("[data-k]").forEach(function (element) {
    named.set(element.getAttribute("data-k"), element);
  });
  if (svg) {
    svg.querySelectorAll("g.node[data-k]").forEach(function (element) {
      element.setAttribute("tabindex", "0");
      element.setAttribute("role", "button");
      element.setAttribute("aria-label", say("node", {name: element.getAttribute("data-k")}));
    });
  }
  var elements = [];
  data.elements.forEach(function (entry) {
    var element = named.get(entry[0]);
    if (element) {
      elements.push({
        element: element,
        shown: entry[1] === null ? Infinity : entry[1],
        grad: entry[2] === null ? Infinity : entry[2],
        state: ""
      });
    }
  });
  // a node reached by several paths shows its gradient growing, sum by sum
  var totals = [];
  Object.keys(data.totals || {}).forEach(function (name) {
    var element = named.get(name);
    var texts = element ? element.querySelectorAll("text.g") : [];
    if (texts.length === 1) {
      totals.push({text: texts[0], sums: data.totals[name], last: texts[0].textContent});
    }
  });
  var items = [];
  for (var stop = 0; stop <= last; stop++) {
    items.push(document.getElementById("s" + stop));
  }

  function setClasses(element, before, after) {
    if (before) {
      before.split(" ").forEach(function (name) { element.classList.remove(name); });
    }
    if (after) {
      after.split(" ").forEach(function (name) { element.classList.add(name); });
    }
  }

  function stateAt(entry, stop) {
    var state = entry.shown > stop ? "pending" : (entry.shown > 0 ? "fwd" : "");
    if (entry.grad <= stop) {
      state = state ? state + " back" : "back";
    }
    return state;
  }

  // -- moving between stops ---------------------------------------------------------------
  var current = -1;
  var lit = [];

  function go(stop, reveal) {
    stop = Math.max(0, Math.min(last, stop | 0));
    var previous = current;
    current = stop;
    for (var i = 0; i < elements.length; i++) {
      var entry = elements[i];
      var state = stateAt(entry, stop);
      if (state !== entry.state) {
        setClasses(entry.element, entry.state, state);
        entry.state = state;
      }
    }
    totals.forEach(function (total) {
      // the sum so far after each path's gradient arrives; the node's total once all have
      var sums = total.sums;
      var text = total.last;
      for (var k = 0; k < sums.length - 1; k++) {
        if (sums[k][0] <= stop) {
          text = sums[k][1];
        }
      }
      if (sums[sums.length - 1][0] <= stop) {
        text = total.last;
      }
      if (total.text.textContent !== text) {
        total.text.textContent = text;
      }
    });
    lit.forEach(function (element) { element.classList.remove("now", "now-f", "now-b"); });
    lit = [];
    var phase = steps[stop][0];
    steps[stop][2].forEach(function (name) {
      var element = named.get(name);
      if (element) {
        element.classList.add("now", phase === "f" ? "now-f" : "now-b");
        lit.push(element);
      }
    });
    markLines(previous, stop);
    showNow(stop);
    slider.value = String(stop);
    slider.setAttribute("aria-valuetext", steps[stop][1]);
    counter.textContent = stop + " / " + last;
    writeHash(stop);
    if (reveal && !revealing) {
      // scrolled after the frame that shows the step: measuring where things are forces a
      // layout of the whole page, which the step itself does not have to wait for
      revealing = true;
      requestAnimationFrame(function () {
        setTimeout(function () {
          revealing = false;
          revealLine(current);
          revealInGraph(lit);
        }, 0);
      });
    }
  }
  var revealing = false;

  function markLines(previous, stop) {
    var from = previous < 0 ? 0 : Math.min(previous, stop);
    var to = previous < 0 ? last : Math.max(previous, stop);
    for (var i = from; i <= to; i++) {
      var item = items[i];
      if (item) {
        item.classList.toggle("done", i < stop);
        item.classList.toggle("current", i === stop);
        if (i === stop) {
          item.setAttribute("aria-current", "step");
        } else {
          item.removeAttribute("aria-current");
        }
      }
    }
  }

  function showNow(stop) {
    now.textContent = "";
    var label = document.createElement("div");
    label.className = "label";
    label.textContent = steps[stop][1];
    now.appendChild(label);
    var item = items[stop];
    if (item) {
      var copy = document.createElement("div");
      copy.className = "said";
      copy.innerHTML = item.innerHTML;  // the page's own markup, escaped when written
      copy.querySelectorAll("input.blank").forEach(function (input) {
        var original = item.querySelector('input.blank[data-b="' + input.getAttribute("data-b") + '"]');
        var shown = document.createElement("span");
        shown.className = "blank-copy";
        shown.textContent = original && original.value ? original.value : "▢" + input.getAttribute("data-b");
        input.replaceWith(shown);
      });
      now.appendChild(copy);
    }
  }

  function revealLine(stop) {
    var item = items[stop];
    if (item && item.scrollIntoView) {
      item.scrollIntoView({block: "nearest"});
    }
  }

  function revealInGraph(elements) {
    if (!elements.length || !figure) {
      return;
    }
    var box = figure.getBoundingClientRect();
    var rect = elements[elements.length - 1].getBoundingClientRect();
    if (rect.top < box.top || rect.bottom > box.bottom) {
      figure.scrollTop += rect.top - box.top - box.height / 2 + rect.height / 2;
    }
    if (rect.left < box.left || rect.right > box.right) {
      figure.scrollLeft += rect.left - box.left - box.width / 2 + rect.width / 2;
    }
  }

  // -- the step in the address: #step=12 opens at stop 12 -----------------------------------
  function writeHash(stop) {
    var hash = "#step=" + stop;
    if (location.hash === hash) {
      return;
    }
    try {
      history.replaceState(null, "", hash);
    } catch (error) {
      location.replace(hash);
    }
  }

  function readHash() {
    var match = /step=(\d+)/.exec(location.hash);
    return match ? parseInt(match[1], 10) : 0;
  }

  window.addEventListener("hashchange", function () {
    var stop = readHash();
    if (stop !== current) {
      go(stop, true);
    }
  });

  // -- playing ----------------------------------------------------------------------------
  var timer = null;
  var icons = {play: playButton.innerHTML,
               pause: playButton.innerHTML.replace(/d="[^"]*"/, 'd="M3 2h4v12H3zM9 2h4v12H9z"')};

  function play() {
    if (current >= last) {
      go(0, true);
    }
    playButton.innerHTML = icons.pause;
    playButton.setAttribute("aria-pressed", "true");
    playButton.setAttribute("aria-label", say("pause"));
    timer = setInterval(function () {
      if (current >= last) {
        pause();
      } else {
        go(current + 1, true);
      }
    }, 1000 / parseFloat(speed.value));
  }

  function pause() {
    if (timer !== null) {
      clearInterval(timer);
      timer = null;
    }
    playButton.innerHTML = icons.play;
    playButton.setAttribute("aria-pressed", "false");
    playButton.setAttribute("aria-label", say("play"));
  }

  function toggle() {
    if (timer === null) {
      play();
    } else {
      pause();
    }
  }

  speed.addEventListener("change", function () {
    if (timer !== null) {
      pause();
      play();
    }
  });

  // -- controls -----------------------------------------------------------------------------
  function on(id, handler) {
    document.getElementById(id).addEventListener("click", handler);
  }

  on("first", function () { pause(); go(0, true); });
  on("prev", function () { pause(); go(current - 1, true); });
  on("next", function () { pause(); go(current + 1, true); });
  on("last", function () { pause(); go(last, true); });
  playButton.addEventListener("click", toggle);
  slider.addEventListener("input", function () { pause(); go(parseInt(slider.value, 10), true); });
  items.forEach(function (item, stop) {
    if (item) {
      item.addEventListener("click", function (event) {
        if (!(event.target instanceof HTMLInputElement)) {
          pause();
          go(stop, false);
        }
      });
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) {
      return;
    }
    var target = event.target;
    var tag = target && target.tagName;
    if (tag === "INPUT" && target.type !== "range" || tag === "TEXTAREA" || tag === "SELECT") {
      if (event.key === "Enter" && target.classList.contains("blank")) {
        event.preventDefault();
        check();
      }
      return;
    }
    if (tag === "INPUT" && event.key !== " ") {
      return;  // the slider moves itself with the arrow keys
    }
    if ((event.key === "Enter" || event.key === " ") && target.getAttribute &&
        target.getAttribute("data-k") !== null) {
      event.preventDefault();
      select(target.getAttribute("data-k"));
      return;
    }
    switch (event.key) {
      case "ArrowRight":
        pause();
        go(current + 1, true);
        break;
      case "ArrowLeft":
        pause();
        go(current - 1, true);
        break;
      case "Home":
        pause();
        go(0, true);
        break;
      case "End":
        pause();
        go(last, true);
        break;
      case " ":
      case "Spacebar":
        if (event.repeat) {
          break;
        }
        toggle();
        break;
      case "Escape":
        closeDetail();
        break;
      default:
        return;
    }
    event.preventDefault();
  });
  document.addEventListener("keyup", function (event) {
    // a button clicks itself on the space bar's release: the space already played or paused
    if ((event.key === " " || event.key === "Spacebar") && event.target.tagName === "BUTTON") {
      event.preventDefault();
    }
  });

  // -- zooming the graph: fit to its box, or a size of its own --------------------------------
  var zoom = 0;  // 0: fit
  var natural = svg ? svg.width.baseVal.value : 0;

  function setZoom(next) {
    zoom = next;
    if (!svg) {
      return;
    }
    if (zoom === 0) {
      svg.style.width = "";
      svg.style.maxWidth = "";
    } else {
      svg.style.maxWidth = "none";
      svg.style.width = Math.round(natural * zoom) + "px";
    }
  }

  function fitted() {
    return svg ? svg.getBoundingClientRect().width / natural : 1;
  }

  on("zoom-in", function () { setZoom((zoom || fitted()) * 1.25); });
  on("zoom-out", function () { setZoom(Math.max(0.1, (zoom || fitted()) / 1.25)); });
  on("zoom-fit", function () { setZoom(0); });

  // -- a node's details -----------------------------------------------------------------------
  function make(tag, className, text) {
    var element = document.createElement(tag);
    if (className) {
      element.className = className;
    }
    if (text !== undefined && text !== null) {
      element.textContent = text;
    }
    return element;
  }

  function stopButton(stop, text) {
    var button = make("button", "go", text);
    button.type = "button";
    button.addEventListener("click", function () { pause(); go(stop, true); });
    return button;
  }

  var consumers = null;

  function pathElements(name) {
    // the nodes reached going up from `name` (towards the output), and the edges among them
    if (consumers === null) {
      consumers = {};
      Object.keys(data.nodes).forEach(function (key) {
        var entry = data.nodes[key];
        if (typeof entry === "object" && entry.kind === "op") {
          entry["in"].forEach(function (source) {
            (consumers[source] = consumers[source] || []).push(entry.id);
          });
        }
      });
    }
    var on = {};
    on[name] = true;
    var stack = [name];
    while (stack.length) {
      (consumers[stack.pop()] || []).forEach(function (next) {
        if (!on[next]) {
          on[next] = true;
          stack.push(next);
        }
      });
    }
    var found = [];
    Object.keys(on).forEach(function (node) {
      found.push(node);
      if (node !== name) {
        found.push(node + " op", node + " op->" + node);
        data.nodes[node]["in"].forEach(function (source) {
          if (on[source]) {
            found.push(source + "->" + node + " op");
          }
        });
      }
    });
    return found;
  }

  var onPath = [];

  function clearPaths() {
    onPath.forEach(function (element) { element.classList.remove("path", "chosen"); });
    onPath = [];
  }

  function select(key) {
    var details = data.details && data.details[key];
    var entry = data.nodes && data.nodes[key];
    if (typeof entry === "string") {
      entry = data.nodes[entry];
    }
    if (!details && !entry) {
      return;
    }
    clearPaths();
    detail.textContent = "";
    var close = make("button", "close", "×");
    close.type = "button";
    close.setAttribute("aria-label", say("close"));
    close.addEventListener("click", closeDetail);
    detail.appendChild(close);
    if (details) {
      var holder = make("div");
      holder.innerHTML = details;  // the page's own markup, escaped when written
      detail.appendChild(holder);
      var chosen = named.get(key);
      if (chosen) {
        chosen.classList.add("chosen");
        onPath.push(chosen);
      }
    } else {
      describe(entry);
    }
    detail.hidden = false;
  }

  function describe(entry) {
    var title = make("h3", null, entry.id + " ");
    title.appendChild(make("small", null, entry.shape || say("scalar")));
    detail.appendChild(title);
    if (entry.kind === "op") {
      detail.appendChild(make("p", "formula", entry.formula));
      var about = (data.ops || {})[entry.op];
      detail.appendChild(make("p", null, about ? say("op_about", {op: entry.op, about: about})
                                               : say("op", {op: entry.op})));
    } else {
      detail.appendChild(make("p", null, entry.kind === "input" ? say("input") : say("constant")));
    }
    var numbers = make("p");
    sayInto(numbers, "value", {value: make("span", "v", entry.value)});
    if (entry.grad !== null) {
      sayInto(numbers, "gradient", {node: entry.id, grad: make("span", "g", entry.grad)});
    } else {
      numbers.appendChild(document.createTextNode(say("no_gradient")));
    }
    detail.appendChild(numbers);
    if (entry.step !== undefined && entry.step !== null) {
      detail.appendChild(sayInto(make("p"), "computed_in", {
        step: stopButton(entry.step, say("step", {number: entry.step}))}));
    }
    if (entry.leaving.length) {
      detail.appendChild(make("h4", null, say("locals")));
      var rules = make("ul");
      entry.leaving.forEach(function (leaving) {
        var item = make("li", null, leaving[2] + " ");
        item.appendChild(stopButton(leaving[0], say("step", {number: leaving[0]})));
        rules.appendChild(item);
      });
      detail.appendChild(rules);
    }
    if (entry.reaching.length) {
      detail.appendChild(make("h4", null, entry.reaching.length > 1
        ? say("reaching_several") : say("reaching_one")));
      var arriving = make("ul");
      entry.reaching.forEach(function (reaching) {
        arriving.appendChild(sayInto(make("li"), "from", {
          node: reaching[1], step: stopButton(reaching[0], say("step", {number: reaching[0]}))}));
      });
      detail.appendChild(arriving);
    }
    var count = entry.paths;
    detail.appendChild(make("p", "paths", say(count === 1 ? "paths_one" : count ? "paths_many"
                                                                                : "paths_none",
                                              {count: count, node: entry.id})));
    if (entry.extra) {
      var extra = make("div", "extra");
      extra.innerHTML = entry.extra;  // the page's own markup, escaped when written
      detail.appendChild(extra);
    }
    pathElements(entry.id).forEach(function (name) {
      var element = named.get(name);
      if (element) {
        element.classList.add(name === entry.id ? "chosen" : "path");
        onPath.push(element);
      }
    });
  }

  function closeDetail() {
    clearPaths();
    detail.hidden = true;
  }

  if (svg) {
    svg.addEventListener("click", function (event) {
      var group = event.target.closest("[data-k]");
      if (group && group.classList.contains("node")) {
        select(group.getAttribute("data-k"));
      }
    });
  }

  // -- the quiz -------------------------------------------------------------------------------
  var NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

  function readAnswer(text) {
    // as gradtrace.narrate.quiz.read_answer: 0.53, -.53, −0.53, 0,53, 1e-3, 1/3
    text = text.trim().replace(/\u2212/g, "-").replace(/ /g, "");
    if (/^[+-]?\d+,\d+$/.test(text)) {
      text = text.replace(",", ".");
    }
    if (NUMBER.test(text)) {
      return parseFloat(text);
    }
    var parts = text.split("/");
    if (parts.length === 2 && NUMBER.test(parts[0]) && NUMBER.test(parts[1])) {
      var denominator = parseFloat(parts[1]);
      return denominator ? parseFloat(parts[0]) / denominator : null;
    }
    return null;
  }

  function judge(blank, typed) {
    if (!typed.trim()) {
      return {status: "empty", why: say("not_answered")};
    }
    var value = readAnswer(typed);
    if (value === null) {
      return {status: "unreadable", why: say("not_a_number", {typed: typed.trim()})};
    }
    if (Math.abs(value - blank.answer) <= blank.tol) {
      return {status: "right", why: ""};
    }
    for (var i = 0; i < blank.mistakes.length; i++) {
      if (Math.abs(value - blank.mistakes[i][0]) <= blank.tol) {
        return {status: "wrong", why: blank.mistakes[i][1]};
      }
    }
    return {status: "wrong", why: expected(blank)};
  }

  function expected(blank) {
    // as gradtrace.narrate.quiz.expected
    if (blank.kind === "value") {
      return say("expected_value", {asks: blank.asks});
    }
    if (blank.kind === "local") {
      return say("expected_local", {asks: blank.asks});
    }
    if (blank.kind === "sum") {
      return say("expected_sum", {node: blank.asks.slice(4)});
    }
    return say("expected_grad");
  }

  function inputOf(blank) {
    return document.querySelector('#story input.blank[data-b="' + blank.n + '"]');
  }

  function check() {
    var quiz = data.quiz;
    var right = 0;
    var first = null;
    var firstWhy = "";
    document.querySelectorAll("#story li.first-wrong").forEach(function (item) {
      item.classList.remove("first-wrong");
    });
    quiz.blanks.forEach(function (blank) {
      var input = inputOf(blank);
      var verdict = judge(blank, input.value);
      input.classList.remove("right", "wrong", "empty");
      input.classList.add(verdict.status === "unreadable" ? "wrong" : verdict.status);
      input.setAttribute("aria-invalid", verdict.status === "right" ? "false" : "true");
      input.title = verdict.status === "right" ? say("right") : verdict.why;
      if (verdict.status === "right") {
        right += 1;
      } else if (first === null && verdict.status !== "empty") {
        first = blank;
        firstWhy = verdict.why;
      }
    });
    var text = say("score", {right: right, total: quiz.blanks.length});
    if (first !== null) {
      text += say("first_wrong", {where: first.where, asks: first.asks, why: firstWhy});
      var item = items[first.stop];
      if (item) {
        item.classList.add("first-wrong");
      }
      pause();
      go(first.stop, true);
    }
    document.getElementById("grade").textContent = text;
  }

  if (data.quiz) {
    document.getElementById("check").addEventListener("click", check);
    document.getElementById("clear").addEventListener("click", function () {
      document.querySelectorAll("#story input.blank").forEach(function (input) {
        input.value = "";
        input.classList.remove("right", "wrong", "empty");
        input.removeAttribute("aria-invalid");
        input.title = "";
      });
      document.getElementById("grade").textContent = "";
    });
    document.querySelectorAll("#story input.blank").forEach(function (input) {
      input.addEventListener("input", function () {
        if (items[current] && items[current].contains(input)) {
          showNow(current);
        }
      });
    });
  }

  // -- printing: everything, as at the last step, with every section open ---------------------
  var beforePrint = null;
  window.addEventListener("beforeprint", function () {
    beforePrint = {stop: current, closed: []};
    document.querySelectorAll("details:not([open])").forEach(function (section) {
      section.open = true;
      beforePrint.closed.push(section);
    });
    pause();
    go(last, false);
  });
  window.addEventListener("afterprint", function () {
    if (beforePrint) {
      beforePrint.closed.forEach(function (section) { section.open = false; });
      go(beforePrint.stop, false);
      beforePrint = null;
    }
  });

  // -- start ---------------------------------------------------------------------------------
  document.documentElement.classList.add("js");
  if (data.quiz) {
    document.body.classList.add("quiz");
  }
  go(readHash(), readHash() > 0);
  window.gradtrace = {go: go, current: function () { return current; }, last: last,
                      check: data.quiz ? check : null, select: select};
}());
