//! A lab's services on the engine: every service run and read for
//! grading (`live_facts`), and a demo step run and streamed.

use super::*;

impl Engine {
    /// Runs a demo step: a one-off container from `rc`
    /// (`seclab-<lab>-demo-<service>`), each command exec'd in turn, every
    /// output line streamed through `on_event`, then the container removed.
    #[allow(clippy::too_many_arguments)]
    pub async fn run_demo_step<F>(
        &self,
        lab: &str,
        student: &str,
        rc: &RunConfig,
        commands: &[ProbeCommand],
        user: Option<&str>,
        workspace: &Path,
        map: &ImageMap,
        mut on_event: F,
    ) -> Result<DemoOutcome, EngineError>
    where
        F: FnMut(DemoEvent) + Send,
    {
        let name = container_name(lab, &format!("demo-{}", rc.service));
        if let Err(msg) = self
            .create_and_start(
                &name,
                lab,
                student,
                rc,
                workspace,
                map,
                &[(labels::DEMO, "true")],
            )
            .await?
        {
            on_event(DemoEvent::Refused(msg.clone()));
            return Ok(DemoOutcome::Refused(msg));
        }
        on_event(DemoEvent::Started {
            container: name.clone(),
        });
        let mut results = Vec::new();
        for run in commands {
            let argv = run.argv();
            on_event(DemoEvent::Command(argv.clone()));
            let out = self
                .exec_streaming(&name, &argv, user, |line| on_event(DemoEvent::Line(line)))
                .await;
            let mut result = ProbeResult {
                service: rc.service.clone(),
                run: run.clone(),
                user: user.map(str::to_owned),
                exit: None,
                stdout: String::new(),
                stderr: String::new(),
                error: None,
            };
            match out {
                Ok(out) => {
                    on_event(DemoEvent::Exit(out.exit));
                    result.exit = out.exit;
                    result.stdout = out.stdout;
                    result.stderr = out.stderr;
                }
                Err(e) => {
                    on_event(DemoEvent::Error(e.to_string()));
                    result.error = Some(e.to_string());
                }
            }
            results.push(result);
        }
        self.force_remove(&name).await?;
        Ok(DemoOutcome::Ran(results))
    }

    /// The live lifecycle of a `check` (`../shared/docs/live.md`): remove
    /// the lab's containers, create and start every service, settle, run
    /// the probes in order, diff each container; the containers are left
    /// running. `to_config` turns inspect output into a [`RunConfig`]
    /// (`seclab_checkers::container::inspect::run_config`).
    #[allow(clippy::too_many_arguments)]
    pub async fn live_facts(
        &self,
        lab: &str,
        student: &str,
        services: &[RunConfig],
        probes: &[Probe],
        workspace: &Path,
        map: &ImageMap,
        to_config: fn(&str, &Value) -> RunConfig,
    ) -> Result<LiveFacts, EngineError> {
        let engine = self.facts().await?;
        self.remove_lab(lab).await?;
        let mut started: BTreeMap<String, Result<String, String>> = BTreeMap::new();
        for rc in services {
            let name = container_name(lab, &rc.service);
            let entry = self
                .create_and_start(&name, lab, student, rc, workspace, map, &[])
                .await?
                .map(|()| name.clone());
            started.insert(rc.service.clone(), entry);
        }
        tokio::time::sleep(SETTLE).await;
        let mut live: BTreeMap<String, Result<LiveContainer, String>> = BTreeMap::new();
        for (service, entry) in &started {
            let value = match entry {
                Ok(name) => Ok(self.read_live(service, name).await?),
                Err(msg) => Err(msg.clone()),
            };
            live.insert(service.clone(), value);
        }
        let mut results = Vec::new();
        for (service, run, user) in probes {
            let result = match live.get(service) {
                Some(Ok(c)) if c.running => {
                    self.probe(&c.name, service, run, user.as_deref()).await
                }
                other => {
                    let why = match other {
                        Some(Ok(c)) => {
                            let mut s =
                                format!("the container of service {service} is not running");
                            if let Some(code) = c.exit_code {
                                let _ = write!(s, " (it exited with code {code})");
                            }
                            s
                        }
                        Some(Err(msg)) => format!("the engine refused service {service}: {msg}"),
                        None => format!("there is no service {service}"),
                    };
                    ProbeResult {
                        service: service.clone(),
                        run: run.clone(),
                        user: user.clone(),
                        exit: None,
                        stdout: String::new(),
                        stderr: String::new(),
                        error: Some(why),
                    }
                }
            };
            results.push(result);
        }
        let mut out = BTreeMap::new();
        for (service, entry) in live {
            let value = match entry {
                Ok(mut c) => {
                    c.changes = self.diff(&c.name).await?;
                    c.into_live(to_config)
                }
                Err(msg) => LiveService::Refused(msg),
            };
            out.insert(service, value);
        }
        Ok(LiveFacts {
            engine,
            services: out,
            probes: results,
            images: seclab_checkers::image::BuiltImages::new(),
            repo_digests: std::collections::BTreeMap::new(),
        })
    }
}
