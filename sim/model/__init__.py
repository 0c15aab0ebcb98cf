"""The simulation model: contacts, queues, agents and routing on a SimPy environment."""
