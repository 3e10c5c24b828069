from replicate_sim.cli import main

raise SystemExit(main())
