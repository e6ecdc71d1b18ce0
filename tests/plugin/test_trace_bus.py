"""The trace_bus fixture: the test's TraceEventBus, fed by its cassette (llm_call) and its
cost tracker (cost_record), and ready for agents to emit on."""

from __future__ import annotations

from plugin_testing import run


def test_bus_gets_an_llm_call_and_a_cost_record_per_call_in_both_modes(project, monkeypatch):
    """Each cassette call emits cost_record then llm_call with model, tokens and whether it was replayed."""
    project.makepyfile(
        test_bus="""
        from fake_llm import FakeLLM, ask

        async def test_events(cassette, trace_bus):
            seen = []
            trace_bus.subscribe(seen.append)
            llm = cassette.llm(FakeLLM(usage={"input_tokens": 10, "output_tokens": 5}), agent_name="planner")
            await llm(ask("one"))
            await llm(ask("two"))
            replayed = cassette.mode == "none"
            assert [(e.event_type, e.agent_name) for e in seen] == [
                ("cost_record", "planner"), ("llm_call", "planner")
            ] * 2
            call = seen[1].payload
            assert (call["model"], call["input_tokens"], call["output_tokens"]) == ("gpt-4o-mini", 10, 5)
            assert call["replayed"] is replayed
            assert seen[0].payload["cost_usd"] == call["cost_usd"] > 0
        """
    )

    run(project, "--record-mode=once").assert_outcomes(passed=1)
    monkeypatch.setenv("FAKE_LLM_FORBID", "1")
    run(project).assert_outcomes(passed=1)


def test_cost_tracker_reports_onto_the_same_bus(project):
    """cost_tracker and trace_bus are wired together: records made by hand reach the bus too."""
    project.makepyfile(
        test_bus="""
        def test_wired(cost_tracker, trace_bus):
            seen = []
            trace_bus.subscribe(seen.append)
            cost_tracker.record(agent="manual", model="gpt-4o-mini", input_tokens=1, output_tokens=1)
            assert cost_tracker.event_bus is trace_bus
            assert [e.event_type for e in seen] == ["cost_record"]
        """
    )

    run(project).assert_outcomes(passed=1)


def test_a_pyagent_patterns_agent_on_the_bus_replays_with_the_same_events(project, monkeypatch):
    """A real Agent wired to trace_bus with a cassette LLM emits the same event sequence recorded and replayed."""
    project.makepyfile(
        test_agent="""
        from pyagent_patterns import Agent, Message
        from fake_llm import FakeLLM

        async def test_agent(cassette, trace_bus):
            seen = []
            trace_bus.subscribe(seen.append)
            agent = Agent("analyst", cassette.llm(FakeLLM(), agent_name="analyst"), system_prompt="Be brief.")
            agent.set_trace_bus(trace_bus)
            reply = await agent.run([Message.user("Summarise Q3")])
            assert reply.content == "reply: Summarise Q3"
            assert [e.event_type for e in seen] == ["agent_start", "cost_record", "llm_call", "agent_end"]
            assert cassette.entries[0].messages == [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Summarise Q3"},
            ]
        """
    )

    run(project, "--record-mode=once").assert_outcomes(passed=1)
    monkeypatch.setenv("FAKE_LLM_FORBID", "1")
    run(project).assert_outcomes(passed=1)


def test_each_test_gets_its_own_bus_and_tracker(project):
    """Events and costs of one test never reach the next test's fixtures."""
    project.makepyfile(
        test_bus="""
        import pytest

        @pytest.mark.parametrize("n", [1, 2])
        def test_isolated(cost_tracker, trace_bus, n):
            seen = []
            trace_bus.subscribe(seen.append)
            assert cost_tracker.call_count == 0
            cost_tracker.record(agent="a", model="gpt-4o-mini", input_tokens=n, output_tokens=n)
            assert len(seen) == 1
        """
    )

    run(project).assert_outcomes(passed=2)
