"""Plain domain types shared by every layer of the daemon: ids, states, events, errors."""
