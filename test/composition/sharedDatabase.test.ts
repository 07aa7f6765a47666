import { expect } from 'chai';
import { refuseFolderAhead } from '../../composition/sharedDatabase.js';
import { toPosition } from '../../adapters/sqlite/eventRows.js';
import { claimDeployment } from '../../adapters/sqlite/database.js';
import { openTempStore, type TempStore } from '../support/sqliteStore.js';

describe('a node’s data folder and the shared database', () => {
  let temp: TempStore;
  beforeEach(() => {
    temp = openTempStore();
  });
  afterEach(async () => {
    await temp.dispose();
  });

  it('refuses a folder whose read models are ahead of the log (a database restored from an older backup)', () => {
    temp.checkpoints.save('apps', toPosition(120));
    temp.checkpoints.save('messages', toPosition(80));
    expect(() => {
      refuseFolderAhead(temp.db, toPosition(120));
    }).not.to.throw();
    expect(() => {
      refuseFolderAhead(temp.db, toPosition(100));
    }).to.throw(
      /read models reach position 120 \(apps\), but the log in TIDINGS_DATABASE_URL ends at 100: .*Start this node on an empty TIDINGS_DATA_DIR/,
    );
    expect(() => {
      refuseFolderAhead(temp.db, undefined);
    }).to.throw(/ends at 0/);
  });

  it('a folder of a new node passes; a folder of another deployment is refused, naming both', () => {
    expect(() => {
      refuseFolderAhead(temp.db, undefined);
    }).not.to.throw();
    claimDeployment(temp.db, 'deployment-a');
    expect(() => {
      claimDeployment(temp.db, 'deployment-a');
    }).not.to.throw();
    expect(() => {
      claimDeployment(temp.db, 'deployment-b');
    }).to.throw(/deployment deployment-a, but TIDINGS_DATABASE_URL is deployment deployment-b/);
  });
});
