from pixcut.cli.main import main

raise SystemExit(main())
