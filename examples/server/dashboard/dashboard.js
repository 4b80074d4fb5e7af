// The coordinator dashboard: signs in through the JSON API, keeps the access token in
// sessionStorage (gone when the tab closes), and draws a program's figures with Chart.js.
// Served under a strict Content-Security-Policy: no inline script or style anywhere, so every
// handler is attached here and every style lives in dashboard.css.
"use strict";

(function () {
  const TOKEN_KEY = "icosistem.dashboard.token";
  const USER_KEY = "icosistem.dashboard.user";
  const PROGRAM_KEY = "icosistem.dashboard.program";
  // Programs listed at most (100 per page, the API's largest): a coordinator's own are few.
  const MAX_PROGRAM_PAGES = 10;

  const TEXT = {
    en: {
      title: "Coordinator dashboard",
      signIn: "Sign in",
      signOut: "Sign out",
      email: "Email",
      password: "Password",
      program: "Program",
      downloads: "Downloads (CSV)",
      applicationsCsv: "Applications",
      enrollmentsCsv: "Enrollments",
      sessionsCsv: "Mentoring sessions",
      funnel: "Applications by status",
      reviewers: "Reviewer workload",
      scores: "Score distribution",
      decision: "Time to decision",
      mentors: "Mentor load vs capacity",
      applications: "Applications",
      done: "Reviews done",
      owed: "Reviews owed",
      reviews: "Reviews",
      median: "Median",
      p90: "90th percentile",
      days: "Days",
      mentees: "Active mentees",
      capacity: "Capacity",
      loading: "Loading…",
      loaded: "Figures as of {time}.",
      noPrograms: "No programs to show.",
      noReviewers: "No reviewers assigned yet.",
      noScores: "No scores yet.",
      scoreSummary: "{count} scores · mean {mean} · std. dev. {stddev}",
      noDecision: "No decisions yet.",
      decisionSummary: "{decided} decided · median {median} · p90 {p90}",
      noMentors: "No mentors with mentees or capacity in this scope.",
      mentorScope: "Platform-wide.",
      mentorScopeOrg: "Entrepreneurs enrolled with this program's organization.",
      seats: "{accepted} of {max} seats taken",
      forbidden: "You cannot see this program's figures.",
      failed: "Could not load: {error}",
      badLogin: "Wrong email or password.",
      downloadFailed: "Download failed: {error}",
      downloaded: "Downloaded {file}.",
      signedInAs: "{name} ({role})",
      status: {
        draft: "Draft", submitted: "Submitted", under_review: "Under review", accepted: "Accepted",
        waitlisted: "Waitlisted", rejected: "Rejected", withdrawn: "Withdrawn",
      },
    },
    es: {
      title: "Panel de coordinación",
      signIn: "Iniciar sesión",
      signOut: "Cerrar sesión",
      email: "Correo electrónico",
      password: "Contraseña",
      program: "Programa",
      downloads: "Descargas (CSV)",
      applicationsCsv: "Postulaciones",
      enrollmentsCsv: "Inscripciones",
      sessionsCsv: "Sesiones de mentoría",
      funnel: "Postulaciones por estado",
      reviewers: "Carga de evaluadores",
      scores: "Distribución de puntajes",
      decision: "Tiempo hasta la decisión",
      mentors: "Carga de mentores frente a capacidad",
      applications: "Postulaciones",
      done: "Evaluaciones hechas",
      owed: "Evaluaciones pendientes",
      reviews: "Evaluaciones",
      median: "Mediana",
      p90: "Percentil 90",
      days: "Días",
      mentees: "Mentorados activos",
      capacity: "Capacidad",
      loading: "Cargando…",
      loaded: "Cifras a las {time}.",
      noPrograms: "No hay programas para mostrar.",
      noReviewers: "Aún no hay evaluadores asignados.",
      noScores: "Aún no hay puntajes.",
      scoreSummary: "{count} puntajes · media {mean} · desv. estándar {stddev}",
      noDecision: "Aún no hay decisiones.",
      decisionSummary: "{decided} decididas · mediana {median} · p90 {p90}",
      noMentors: "No hay mentores con mentorados o capacidad en este ámbito.",
      mentorScope: "Toda la plataforma.",
      mentorScopeOrg: "Emprendedores inscritos en la organización de este programa.",
      seats: "{accepted} de {max} cupos ocupados",
      forbidden: "No puedes ver las cifras de este programa.",
      failed: "No se pudo cargar: {error}",
      badLogin: "Correo o contraseña incorrectos.",
      downloadFailed: "Falló la descarga: {error}",
      downloaded: "Descargado {file}.",
      signedInAs: "{name} ({role})",
      status: {
        draft: "Borrador", submitted: "Enviada", under_review: "En evaluación", accepted: "Aceptada",
        waitlisted: "En lista de espera", rejected: "Rechazada", withdrawn: "Retirada",
      },
    },
  };

  const COLORS = {
    draft: "#9aa5b1", submitted: "#1f6feb", under_review: "#8250df", accepted: "#1a7f37",
    waitlisted: "#bf8700", rejected: "#cf222e", withdrawn: "#57606a",
  };

  const $ = (id) => document.getElementById(id);
  const charts = {};
  let programs = [];
  let loadSeq = 0;

  // --- language -------------------------------------------------------------------------------

  function user() {
    try {
      return JSON.parse(sessionStorage.getItem(USER_KEY) || "null");
    } catch (_) {
      return null;
    }
  }

  function lang() {
    const u = user();
    const wanted = (u && u.language) || navigator.language || "en";
    return wanted.toLowerCase().startsWith("es") ? "es" : "en";
  }

  function t(key, values) {
    const table = TEXT[lang()];
    let text = key.split(".").reduce((node, part) => (node ? node[part] : undefined), table);
    if (text === undefined) text = key;
    for (const [name, value] of Object.entries(values || {})) {
      text = text.split("{" + name + "}").join(String(value));
    }
    return text;
  }

  function translatePage() {
    document.documentElement.lang = lang();
    document.title = "Icosistem — " + t("title");
    for (const node of document.querySelectorAll("[data-i18n]")) {
      node.textContent = t(node.dataset.i18n);
    }
  }

  const number = (value, digits) =>
    new Intl.NumberFormat(lang(), { maximumFractionDigits: digits === undefined ? 1 : digits }).format(value);

  // Seconds as the largest unit that keeps the number readable (minutes, hours or days).
  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    const units = [["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]];
    const [unit, size] = units.find(([, s]) => seconds >= s) || units[units.length - 1];
    return new Intl.NumberFormat(lang(), { style: "unit", unit, unitDisplay: "long", maximumFractionDigits: 1 })
      .format(seconds / size);
  }

  // --- API --------------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function api(path, options) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    const headers = Object.assign({ Accept: "application/json" }, (options && options.headers) || {});
    if (token) headers.Authorization = "Bearer " + token;
    const response = await fetch(path, Object.assign({}, options, { headers }));
    if (response.status === 401 && token) {
      signOut();
      throw new ApiError(401, "signed out");
    }
    if (!response.ok) {
      let message = response.status + " " + response.statusText;
      try {
        const problem = await response.json();
        message = problem.detail || problem.title || message;
      } catch (_) { /* not a problem document */ }
      throw new ApiError(response.status, message);
    }
    return response;
  }

  const json = async (path) => (await api(path)).json();

  // --- sign in / out ----------------------------------------------------------------------------

  async function signIn(event) {
    event.preventDefault();
    const button = $("sign-in");
    $("login-error").textContent = "";
    button.disabled = true;
    try {
      const response = await fetch("/api/v2/auth/login", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ email: $("email").value.trim(), password: $("password").value }),
      });
      if (!response.ok) {
        let message = t("badLogin");
        if (response.status !== 401) {
          try {
            const problem = await response.json();
            message = problem.detail || problem.title || message;
          } catch (_) { /* keep the generic message */ }
        }
        $("login-error").textContent = message;
        return;
      }
      const body = await response.json();
      sessionStorage.setItem(TOKEN_KEY, body.access_token);
      sessionStorage.setItem(USER_KEY, JSON.stringify(body.user));
      $("password").value = "";
      await showDashboard();
    } catch (error) {
      $("login-error").textContent = String(error.message || error);
    } finally {
      button.disabled = false;
    }
  }

  function signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(USER_KEY);
    for (const key of Object.keys(charts)) {
      charts[key].destroy();
      delete charts[key];
    }
    showLogin();
  }

  function showLogin() {
    translatePage();
    $("dashboard-view").hidden = true;
    $("account").hidden = true;
    $("login-view").hidden = false;
    $("email").focus();
  }

  // --- the dashboard ----------------------------------------------------------------------------

  function setStatus(text, isError) {
    const node = $("status");
    node.textContent = text;
    node.classList.toggle("error", Boolean(isError));
  }

  async function showDashboard() {
    // The caller as the server knows them now (language, name), not as signed in earlier.
    const me = await json("/api/v2/users/me");
    sessionStorage.setItem(USER_KEY, JSON.stringify(me));
    translatePage();
    $("who").textContent = t("signedInAs", { name: [me.first_name, me.last_name].join(" ").trim() || me.email, role: me.role });
    $("login-view").hidden = true;
    $("account").hidden = false;
    $("dashboard-view").hidden = false;
    // The platform's sessions export is the admins' only.
    $("download-sessions").hidden = me.role !== "admin";
    await loadPrograms();
  }

  async function loadPrograms() {
    setStatus(t("loading"));
    programs = [];
    let cursor = null;
    for (let page = 0; page < MAX_PROGRAM_PAGES; page += 1) {
      const query = new URLSearchParams({ limit: "100" });
      if (cursor) query.set("cursor", cursor);
      const body = await json("/api/v2/programs?" + query);
      programs.push(...body.items);
      cursor = body.next_cursor;
      if (!cursor) break;
    }
    const select = $("program");
    select.replaceChildren(...programs.map((p) => new Option(p.name + " (" + p.status + ")", p.id)));
    if (programs.length === 0) {
      setStatus(t("noPrograms"));
      return;
    }
    const remembered = sessionStorage.getItem(PROGRAM_KEY);
    select.value = programs.some((p) => p.id === remembered) ? remembered : programs[0].id;
    await loadProgram(select.value);
  }

  async function loadProgram(id) {
    const seq = ++loadSeq;
    const program = programs.find((p) => p.id === id);
    if (!program) return;
    sessionStorage.setItem(PROGRAM_KEY, id);
    $("dashboard-view").dataset.program = "";
    setStatus(t("loading"));
    const me = user() || {};
    // Admins see the platform's mentoring; staff their organization's enrolled entrepreneurs'.
    const platform = me.role === "admin";
    const mentoringPath = platform
      ? "/api/v2/analytics/mentoring"
      : "/api/v2/analytics/mentoring?organization_id=" + encodeURIComponent(program.organization_id);
    try {
      const [figures, mentoring] = await Promise.all([
        json("/api/v2/programs/" + encodeURIComponent(id) + "/analytics"),
        json(mentoringPath).catch((error) => (error.status === 403 ? null : Promise.reject(error))),
      ]);
      if (seq !== loadSeq) return; // another program was chosen meanwhile
      drawFunnel(figures);
      drawReviewers(figures);
      drawScores(figures);
      drawDecision(figures);
      drawMentors(mentoring, platform);
      setStatus(t("loaded", { time: new Date().toLocaleTimeString(lang()) }));
      // What the browser check waits for: the charts of this program are drawn.
      $("dashboard-view").dataset.program = id;
    } catch (error) {
      if (seq !== loadSeq || error.status === 401) return;
      setStatus(error.status === 403 ? t("forbidden") : t("failed", { error: error.message }), true);
    }
  }

  const shortId = (id) => "…" + String(id).slice(-8);

  function chart(key, config) {
    if (charts[key]) charts[key].destroy();
    const options = Object.assign(
      {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: config.legend === true } },
      },
      config.options || {},
    );
    charts[key] = new Chart($(key + "-chart"), { type: config.type, data: config.data, options });
  }

  const integerAxis = { beginAtZero: true, ticks: { precision: 0 } };

  function drawFunnel(figures) {
    const funnel = figures.applications.funnel;
    chart("funnel", {
      type: "bar",
      data: {
        labels: funnel.map((row) => t("status." + row.status)),
        datasets: [{
          label: t("applications"),
          data: funnel.map((row) => row.count),
          backgroundColor: funnel.map((row) => COLORS[row.status] || "#1f6feb"),
        }],
      },
      options: { indexAxis: "y", scales: { x: integerAxis } },
    });
    // The raw statuses, in the chart's order, for whoever reads the chart's data back.
    charts.funnel.$statuses = funnel.map((row) => row.status);
    $("funnel-note").textContent = t("seats", {
      accepted: figures.capacity.accepted,
      max: figures.capacity.max_participants,
    });
  }

  function drawReviewers(figures) {
    const reviewers = figures.reviews.reviewers;
    chart("reviewers", {
      type: "bar",
      legend: true,
      data: {
        labels: reviewers.map((r) => shortId(r.reviewer_id)),
        datasets: [
          { label: t("done"), data: reviewers.map((r) => r.done), backgroundColor: "#1a7f37" },
          { label: t("owed"), data: reviewers.map((r) => r.owed), backgroundColor: "#bf8700" },
        ],
      },
      options: { scales: { x: { stacked: true }, y: Object.assign({ stacked: true }, integerAxis) } },
    });
    $("reviewers-note").textContent = reviewers.length ? "" : t("noReviewers");
  }

  function drawScores(figures) {
    const scores = figures.reviews.scores;
    chart("scores", {
      type: "bar",
      data: {
        labels: scores.buckets.map((b) => b.min + "–" + b.max),
        datasets: [{
          label: t("reviews"),
          data: scores.buckets.map((b) => b.count),
          backgroundColor: "#8250df",
          barPercentage: 1,
          categoryPercentage: 0.95,
        }],
      },
      options: { scales: { y: integerAxis } },
    });
    $("scores-note").textContent = scores.count
      ? t("scoreSummary", {
        count: scores.count,
        mean: scores.mean === null ? "—" : number(scores.mean),
        stddev: scores.stddev === null ? "—" : number(scores.stddev),
      })
      : t("noScores");
  }

  function drawDecision(figures) {
    const a = figures.applications;
    const days = (s) => (s === null || s === undefined ? null : s / 86400);
    chart("decision", {
      type: "bar",
      data: {
        labels: [t("median"), t("p90")],
        datasets: [{
          label: t("days"),
          data: [days(a.decision_median_seconds), days(a.decision_p90_seconds)],
          backgroundColor: ["#1f6feb", "#0a3069"],
        }],
      },
      options: {
        indexAxis: "y",
        scales: { x: { beginAtZero: true, title: { display: true, text: t("days") } } },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: (item) => duration(item.raw * 86400) } },
        },
      },
    });
    $("decision-note").textContent = a.decided
      ? t("decisionSummary", {
        decided: a.decided,
        median: duration(a.decision_median_seconds),
        p90: duration(a.decision_p90_seconds),
      })
      : t("noDecision");
  }

  function drawMentors(mentoring, platform) {
    const mentors = mentoring ? mentoring.mentoring.mentors : [];
    chart("mentors", {
      type: "bar",
      legend: true,
      data: {
        labels: mentors.map((m) => shortId(m.ally_id)),
        datasets: [
          { label: t("mentees"), data: mentors.map((m) => m.active_mentees), backgroundColor: "#1f6feb" },
          { label: t("capacity"), data: mentors.map((m) => m.capacity), backgroundColor: "#d8dee6" },
        ],
      },
      options: { scales: { y: integerAxis } },
    });
    const scope = platform ? t("mentorScope") : t("mentorScopeOrg");
    $("mentors-note").textContent = mentors.length ? scope : t("noMentors") + " " + scope;
  }

  // --- CSV downloads --------------------------------------------------------------------------

  // The exports need the bearer token, so a plain link cannot fetch them: fetch, then hand the
  // browser the body as a blob: URL to save under the server's file name.
  async function download(path, fallbackName, button) {
    button.disabled = true;
    try {
      const response = await api(path, { headers: { Accept: "text/csv" } });
      const disposition = response.headers.get("Content-Disposition") || "";
      const match = /filename="([^"]+)"/.exec(disposition);
      const name = match ? match[1] : fallbackName;
      const url = URL.createObjectURL(await response.blob());
      const link = document.createElement("a");
      link.href = url;
      link.download = name;
      link.hidden = true;
      document.body.appendChild(link);
      link.click();
      link.remove();
      // Revoked later: the browser reads the blob after the click returns.
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      setStatus(t("downloaded", { file: name }));
    } catch (error) {
      if (error.status !== 401) setStatus(t("downloadFailed", { error: error.message }), true);
    } finally {
      button.disabled = false;
    }
  }

  function programPath(suffix) {
    return "/api/v2/programs/" + encodeURIComponent($("program").value) + "/" + suffix;
  }

  // --- start ------------------------------------------------------------------------------------

  document.addEventListener("DOMContentLoaded", () => {
    $("login-form").addEventListener("submit", signIn);
    $("sign-out").addEventListener("click", signOut);
    $("program").addEventListener("change", (event) => loadProgram(event.target.value));
    $("download-applications").addEventListener("click", (event) =>
      download(programPath("applications.csv"), "applications.csv", event.currentTarget));
    $("download-enrollments").addEventListener("click", (event) =>
      download(programPath("enrollments.csv"), "enrollments.csv", event.currentTarget));
    $("download-sessions").addEventListener("click", (event) =>
      download("/api/v2/analytics/mentoring/sessions.csv", "mentoring-sessions.csv", event.currentTarget));
    if (sessionStorage.getItem(TOKEN_KEY)) {
      showDashboard().catch((error) => {
        if (error.status !== 401) setStatus(t("failed", { error: error.message }), true);
      });
    } else {
      showLogin();
    }
  });
})();
